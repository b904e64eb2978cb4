import { Identity1763800000000 } from './1763800000000-Identity';
import { AuditAndJobRuns1763900000000 } from './1763900000000-AuditAndJobRuns';
import { Executions1764000000000 } from './1764000000000-Executions';
import { Snippets1764100000000 } from './1764100000000-Snippets';
import { Environments1764200000000 } from './1764200000000-Environments';
import { Files1764300000000 } from './1764300000000-Files';
import { Profiles1764400000000 } from './1764400000000-Profiles';
import { ExecutionStatsIndex1764450000000 } from './1764450000000-ExecutionStatsIndex';
import { Community1764500000000 } from './1764500000000-Community';
import { AiCatalog1764600000000 } from './1764600000000-AiCatalog';
import { AiConfigs1764700000000 } from './1764700000000-AiConfigs';
import { AiChat1764800000000 } from './1764800000000-AiChat';
import { PlanAiLimits1764900000000 } from './1764900000000-PlanAiLimits';
import { ApiKeyAiLimits1765000000000 } from './1765000000000-ApiKeyAiLimits';
import { AiUsageDaily1765100000000 } from './1765100000000-AiUsageDaily';
import { Notifications1765200000000 } from './1765200000000-Notifications';
import { ClusterMessages1765300000000 } from './1765300000000-ClusterMessages';
import { Deployments1765500000000 } from './1765500000000-Deployments';
import { DeploymentLogs1765400000000 } from './1765400000000-DeploymentLogs';
import { SandboxMetrics1765700000000 } from './1765700000000-SandboxMetrics';
import { Servers1765800000000 } from './1765800000000-Servers';
import { AlertRules1765900000000 } from './1765900000000-AlertRules';
import { PlanDeploymentMemory1766000000000 } from './1766000000000-PlanDeploymentMemory';
import { DeploymentLeases1766100000000 } from './1766100000000-DeploymentLeases';

/** Every migration, in order. A new migration is added here as well. */
export const MIGRATIONS = [Identity1763800000000, AuditAndJobRuns1763900000000, Executions1764000000000, Snippets1764100000000, Environments1764200000000, Files1764300000000, Profiles1764400000000, ExecutionStatsIndex1764450000000, Community1764500000000, AiCatalog1764600000000, AiConfigs1764700000000, AiChat1764800000000, PlanAiLimits1764900000000, ApiKeyAiLimits1765000000000, AiUsageDaily1765100000000, Notifications1765200000000, ClusterMessages1765300000000, DeploymentLogs1765400000000, Deployments1765500000000, SandboxMetrics1765700000000, Servers1765800000000, AlertRules1765900000000, PlanDeploymentMemory1766000000000, DeploymentLeases1766100000000];

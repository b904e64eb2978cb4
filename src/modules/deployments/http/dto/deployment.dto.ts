import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsBoolean, IsIn, IsInt, IsObject, IsString, Length, Matches, Max, MaxLength, Min, ValidateBy, ValidateNested,
} from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsArrayOfObjects, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { MAX_FILES, MAX_PATH_LENGTH } from '../../app-files';
import type { DeploymentInput } from '../../commands/create-deployment.command';
import type { DeploymentConfigInput } from '../../deployment-versions';
import type { DeploymentChanges } from '../../commands/update-deployment.command';
import { DEPLOYMENT_STATUSES, DeploymentStatus } from '../../deployment-state';
import type { DeploymentView, VersionView } from '../../deployment.mapper';

const RUNTIMES = ['nodejs', 'python', 'manifest'] as const;
const MAX_COMMAND = 1000;
const MAX_ENV_VARS = 100;
const MAX_ENV_VALUE = 8 * 1024;

/** An object of at most 100 string values of at most 8 KB each (names are checked by the command). */
const IsStringMap = (): PropertyDecorator =>
  ValidateBy({
    name: 'isStringMap',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' && value !== null && !Array.isArray(value) &&
        Object.keys(value).length <= MAX_ENV_VARS &&
        Object.values(value).every((item) => typeof item === 'string' && item.length <= MAX_ENV_VALUE && !item.includes('\u0000')),
      defaultMessage: () => `$property must be an object of at most ${MAX_ENV_VARS} string values of at most ${MAX_ENV_VALUE} characters`,
    },
  });

export class DeploymentFile {
  @ApiProperty({ example: 'server.js', maxLength: MAX_PATH_LENGTH, description: 'A relative path: letters, digits, ., _, - and /' })
  @IsString() @Length(1, MAX_PATH_LENGTH)
  path!: string;

  @ApiProperty({ example: "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT);" })
  @IsString()
  content!: string;
}

export class DeploymentConfig implements DeploymentConfigInput {
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { GREETING: 'hello' }, description: 'Stored encrypted; only the names are shown back. PORT and HOST are set by the platform' })
  @IsOptionalNotNull() @IsStringMap()
  env_vars?: Record<string, string>;

  @ApiPropertyOptional({ maxLength: MAX_COMMAND, example: 'npm run build', description: 'Run in the app\'s sandbox before starting (no network: dependencies come with the files)' })
  @IsOptionalNotNull() @IsString() @Length(1, MAX_COMMAND) @Matches(SINGLE_LINE_TEXT, { message: 'build_command must be one line' })
  build_command?: string;

  @ApiPropertyOptional({ maxLength: MAX_COMMAND, example: 'node server.js', description: 'Default: npm start (a start script), node index.js/server.js/app.js, python3 app.py/main.py, or the manifest\'s' })
  @IsOptionalNotNull() @IsString() @Length(1, MAX_COMMAND) @Matches(SINGLE_LINE_TEXT, { message: 'start_command must be one line' })
  start_command?: string;

  @ApiPropertyOptional({ minimum: 1024, maximum: 65535, default: 8080, description: 'The port the app listens on inside its sandbox (its PORT variable)' })
  @IsOptionalNotNull() @IsInt() @Min(1024) @Max(65535)
  port?: number;

  @ApiPropertyOptional({ maxLength: 200, default: '/', description: 'Asked with GET after start; any answer below 500 means up' })
  @IsOptionalNotNull() @IsString() @MaxLength(200) @Matches(/^\/[\x21-\x7e]*$/, { message: 'health_check_path must be a path starting with /' })
  health_check_path?: string;

  @ApiPropertyOptional({ default: false, description: 'true: the proxy answers only requests with the owner\'s token' })
  @IsOptionalNotNull() @IsBoolean()
  private?: boolean;
}

@ApiRequestExample({
  name: 'hello',
  files: [{ path: 'server.js', content: "require('http').createServer((q, s) => s.end('hello')).listen(process.env.PORT);" }],
  runtime: 'nodejs',
})
export class CreateDeploymentRequest implements DeploymentInput {
  @ApiProperty({ example: 'hello', maxLength: 100 })
  @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name!: string;

  @ApiProperty({ type: [DeploymentFile], minItems: 1, maxItems: MAX_FILES })
  @IsArrayOfObjects(() => DeploymentFile) @ArrayMinSize(1) @ArrayMaxSize(MAX_FILES)
  files!: DeploymentFile[];

  @ApiPropertyOptional({ enum: RUNTIMES, description: 'Default: manifest with a coderunner.json, nodejs with package.json or .js files, else python' })
  @IsOptionalNotNull() @IsIn(RUNTIMES)
  runtime?: (typeof RUNTIMES)[number];

  @ApiPropertyOptional({ type: DeploymentConfig })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => DeploymentConfig)
  config?: DeploymentConfig;
}

@ApiRequestExample({ config: { env_vars: { GREETING: 'hi again' } } })
export class UpdateDeploymentRequest implements DeploymentChanges {
  @ApiPropertyOptional({ example: 'hello', maxLength: 100 })
  @IsOptionalNotNull() @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name?: string;

  @ApiPropertyOptional({ type: [DeploymentFile], minItems: 1, maxItems: MAX_FILES, description: 'The whole new set of files; omitted: the current version\'s' })
  @IsOptionalNotNull() @IsArrayOfObjects(() => DeploymentFile) @ArrayMinSize(1) @ArrayMaxSize(MAX_FILES)
  files?: DeploymentFile[];

  @ApiPropertyOptional({ type: DeploymentConfig, description: 'Merged over the current version\'s; env_vars, when given, replaces them all' })
  @IsOptionalNotNull() @IsObject() @ValidateNested() @Type(() => DeploymentConfig)
  config?: DeploymentConfig;
}

@ApiRequestExample({ version_number: 1 })
export class RollbackDeploymentRequest {
  @ApiProperty({ minimum: 1, example: 1 })
  @IsInt() @Min(1) @Max(1_000_000)
  version_number!: number;
}

export class ListDeploymentsRequest extends PageQuery {
  @ApiPropertyOptional({ enum: DEPLOYMENT_STATUSES })
  @IsOptionalNotNull() @IsIn(DEPLOYMENT_STATUSES)
  status?: DeploymentStatus;
}

export class DeploymentResponse implements DeploymentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: RUNTIMES }) runtime!: string;
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why it failed, or is restarting' }) error!: string | null;
  @ApiProperty({ description: 'The version running (or starting)' }) version!: number;
  @ApiProperty({ example: '/d/0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b/', description: 'Where the app answers, through the platform\'s proxy' }) endpoint!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class DeploymentEnvelope {
  @ApiProperty({ type: DeploymentResponse }) deployment!: DeploymentResponse;
}

export class DeploymentListResponse {
  @ApiProperty({ type: [DeploymentResponse] }) deployments!: DeploymentResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

class VersionFile {
  @ApiProperty() path!: string;
  @ApiProperty() size!: number;
}

export class VersionResponse implements VersionView {
  @ApiProperty() version_number!: number;
  @ApiProperty({ type: [VersionFile] }) files!: VersionFile[];
  @ApiProperty({ type: String, nullable: true }) build_command!: string | null;
  @ApiProperty() start_command!: string;
  @ApiProperty() port!: number;
  @ApiProperty() health_check_path!: string;
  @ApiProperty() private!: boolean;
  @ApiProperty({ type: [String], description: 'Variable names; values are never shown' }) env_vars!: string[];
  @ApiProperty({ description: 'The version the deployment runs' }) current!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class VersionListResponse {
  @ApiProperty({ type: [VersionResponse] }) versions!: VersionResponse[];
}

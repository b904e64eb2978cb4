import { rmSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { AppFile, writeFiles } from './app-files';
import { DeploymentVersions } from './deployment-versions';
import { DeploymentRepository } from './repositories/deployment.repository';
import { DeploymentControl } from './runtime/deployment-control';
import { DeploymentRunner } from './runtime/deployment-runner';
import { VersionFiles } from './version-files';

/**
 * Publishes a new version of a deployment (a change or a rollback): its files
 * in the blob store and on this server's disk first, then the version's row,
 * which holds them; then the version is put in place by the replica running
 * the deployment (DeploymentControl), in the background.
 */
@Injectable()
export class VersionPublisher {
  constructor(
    private readonly deployments: DeploymentRepository,
    private readonly runner: DeploymentRunner,
    private readonly control: DeploymentControl,
    private readonly files: VersionFiles,
  ) {}

  /** The new version's number; 404 when the deployment went meanwhile. */
  async publish(id: string, files: AppFile[], made: ReturnType<DeploymentVersions['make']>): Promise<number> {
    // The next number is decided with the row locked; the files go to a directory of their own first.
    const staged = await this.files.stage(files);
    const staging = `${this.runner.deploymentDir(id)}/staging-${process.hrtime.bigint()}`;
    let versionNumber: number | null;
    try {
      writeFiles(staging, files);
      versionNumber = await this.deployments.addVersion(id, { ...made, files: staged.manifest }, (manager) => this.files.hold(manager, staged));
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    } finally {
      await this.files.discard(staged);
    }
    if (versionNumber === null) {
      rmSync(staging, { recursive: true, force: true });
      throw AppError.notFound('Deployment');
    }
    this.runner.adoptFiles(staging, id, versionNumber);
    await this.control.redeploy(id, versionNumber);
    return versionNumber;
  }
}

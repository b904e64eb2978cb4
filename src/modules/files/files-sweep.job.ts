import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { Blobs } from './storage/blobs';

/** An orphan younger than this may still be being collected by the request that released it. */
const ORPHAN_GRACE_MS = 10 * 60 * 1000;
/** Far longer than any upload takes to stream in. */
const STAGED_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * files.sweep: the bytes of blobs nobody holds (a crash between a delete and
 * its collection) and temporary files of uploads a crash cut short.
 */
@Injectable()
export class FilesSweepJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly blobs: Blobs,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'files.sweep',
      description: 'Delete stored contents no file or avatar holds any more, and temporary files of interrupted uploads',
      schedule: '17 * * * *',
      run: async (now) => this.blobs.sweep(new Date(now.getTime() - ORPHAN_GRACE_MS), STAGED_MAX_AGE_MS),
    });
  }
}

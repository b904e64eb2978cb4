import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { PostRepository } from './repositories/post.repository';

/** community.sweep_views: view records over an hour old hold nothing back; without this the table grows with users × posts. */
@Injectable()
export class CommunityViewsSweepJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly posts: PostRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'community.sweep_views',
      description: 'Forget post views over an hour old (a user\'s view of a post counts once an hour)',
      schedule: '*/15 * * * *',
      run: async () => ({ deleted: await this.posts.sweepViews() }),
    });
  }
}

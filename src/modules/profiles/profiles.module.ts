import { Module } from '@nestjs/common';
import { CommunityModule } from '../community/community.module';
import { ExecutionModule } from '../execution/execution.module';
import { IdentityModule } from '../identity/identity.module';
import { LibraryModule } from '../library/library.module';
import { ProfileStatsController } from './http/profile-stats.controller';
import { UserDirectoryController } from './http/user-directory.controller';
import { GetOwnStatsHandler } from './queries/get-own-stats.query';
import { GetPublicProfileHandler } from './queries/get-public-profile.query';
import { GetPublicStatsHandler } from './queries/get-public-stats.query';

/**
 * Profile pages and statistics (README: Profiles): no table of its own; it
 * puts together what identity (the profile), execution (runs), library
 * (snippets) and community (posts, follows) answer.
 */
@Module({
  // Identity: GetProfileQuery, SearchUsersQuery. Execution: GetExecutionStatsQuery. Library: CountSnippetsQuery.
  // Community: GetCommunityStatsQuery, GetFollowStatusQuery.
  imports: [IdentityModule, ExecutionModule, LibraryModule, CommunityModule],
  controllers: [ProfileStatsController, UserDirectoryController],
  providers: [GetOwnStatsHandler, GetPublicProfileHandler, GetPublicStatsHandler],
})
export class ProfilesModule {}

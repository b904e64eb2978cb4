import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { GetUserCardsQuery } from '../../identity/queries/get-user-cards.query';
import { CommunityActivity } from '../community-activity';
import { CommunityActivityEvent } from '../events/community-activity.event';
import { ReactionRepository, Toggled } from '../repositories/reaction.repository';

/** Follows a user, or stops following them on a second call. Nobody follows themselves (400); an unknown user is 404. */
export class ToggleFollowCommand extends Command<Toggled> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@CommandHandler(ToggleFollowCommand)
export class ToggleFollowHandler implements ICommandHandler<ToggleFollowCommand> {
  constructor(
    private readonly reactions: ReactionRepository,
    private readonly queries: QueryBus,
    private readonly activity: CommunityActivity,
  ) {}

  async execute({ actor, userId }: ToggleFollowCommand): Promise<Toggled> {
    if (userId === actor.userId) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'You cannot follow yourself', { fields: { user_id: ['user_id must not be your own id'] } });
    }
    const [user] = await this.queries.execute(new GetUserCardsQuery([userId]));
    if (!user) throw AppError.notFound('User');
    const toggled = await this.reactions.toggle('follow', userId, actor);
    if (!toggled) throw AppError.notFound('User');
    if (toggled.added) this.activity.tell(new CommunityActivityEvent({ type: 'follow', recipient_id: userId, actor_id: actor.userId }));
    return toggled;
  }
}

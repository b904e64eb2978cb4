import { SetMetadata } from '@nestjs/common';

export const SKIP_RATE_LIMIT = 'coderunner:skip-rate-limit';

/** For probes such as health checks, which load balancers call often and anonymously. */
export const SkipRateLimit = (): MethodDecorator & ClassDecorator => SetMetadata(SKIP_RATE_LIMIT, true);

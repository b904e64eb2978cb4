import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { AuditNotes, withAuditNotes } from '../../common/audit/audit-notes';
import { AUDITED_METHODS } from './audit-capture';

export type RequestWithNotes = FastifyRequest & { auditNotes?: AuditNotes };

/**
 * Opens the audit notes of a state-changing request around its handler, so
 * that what handlers note (noteForAudit) reaches the request's audit entry.
 * The handler is subscribed inside the notes' async context; reads pass through.
 */
@Injectable()
export class AuditNotesInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<RequestWithNotes>();
    if (!AUDITED_METHODS.has(request.method)) return next.handle();
    const notes: AuditNotes = {};
    request.auditNotes = notes;
    return new Observable((subscriber) => withAuditNotes(notes, () => next.handle().subscribe(subscriber)));
  }
}

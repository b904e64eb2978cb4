/**
 * Published on the CQRS EventBus of the replica that stored it, once per
 * stored file (new or replaced) after the upload committed: the notifications
 * context turns it into a `file_upload` notification of its owner. Local on
 * purpose: on the cluster bus every replica would write that notification once.
 */
export class FileUploadedEvent {
  constructor(
    readonly user_id: string,
    readonly file_id: string,
    readonly filename: string,
    /** The folder, e.g. `/reports`. */
    readonly path: string,
    readonly size: number,
    readonly project_id: string | null,
  ) {}
}

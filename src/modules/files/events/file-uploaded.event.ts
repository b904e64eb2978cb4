/**
 * Published on the cluster bus (every replica) for each stored file; the
 * realtime gateway turns it into a `file_upload` notification of its owner.
 */
export const FILE_UPLOADED_TOPIC = 'files.uploaded';

export interface FileUploadedEvent {
  user_id: string;
  file_id: string;
  filename: string;
  path: string;
  size: number;
  project_id: string | null;
}

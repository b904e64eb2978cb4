import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiHeader, ApiNotFoundResponse, ApiOkResponse, ApiOperation,
  ApiPayloadTooLargeResponse, ApiProduces, ApiResponse, ApiTags, ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { noteForAudit } from '../../../common/audit/audit-notes';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { AcceptsMultipart } from '../../../common/http/body-parsers';
import { pagination } from '../../../common/http/pagination';
import { parseUuid, UuidParam } from '../../../common/http/uuid-param';
import { DeleteFileCommand } from '../commands/delete-file.command';
import { MakeFolderCommand } from '../commands/make-folder.command';
import { UploadFilesCommand } from '../commands/upload-files.command';
import { toFileResponse, toFolderResponse } from '../file.mapper';
import { GetFileQuery } from '../queries/get-file.query';
import { ListFilesQuery } from '../queries/list-files.query';
import { Blobs } from '../storage/blobs';
import { uploadLimitsOf } from '../upload-limits';
import {
  DeletedFilesResponse, DeleteFileRequest, FolderListResponse, ListFilesRequest, MakeFolderRequest, MakeFolderResponse, UPLOAD_BODY_SCHEMA,
  UploadResponse,
} from './dto/file.dto';
import { contentDisposition, contentType, matchesEtag, parseRange } from './download-headers';
import { receiveUpload } from './multipart-upload';

/** Files come as `file`, or several as `files` (also `files[]`); at most 100 in one request. */
const FILES_UPLOAD = {
  fileFields: new Set(['file', 'files', 'files[]']),
  maxFiles: 100,
  hint: 'send files as "file" or "files"',
  tooLarge: (filename: string, limitBytes: number) =>
    new AppError(ErrorCode.FILE_TOO_LARGE, `${filename} is larger than ${limitBytes} bytes, the most your plan allows a file`, {
      filename,
      limit_bytes: limitBytes,
    }),
};

const fileNotFound = { description: 'No such file, or another user\'s: "File not found"', type: ErrorResponse };

@ApiTags('files')
@ApiBadRequestResponse({ description: 'Invalid input (a name or path with "..", "/", "\\\\", NUL or control characters; too long)', type: ErrorResponse })
@Authenticated()
@Controller('files')
export class FilesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly blobs: Blobs,
  ) {}

  @Post('upload')
  @AcceptsMultipart()
  @Audit({ action: 'file.upload', resourceType: 'file', resourceId: (r) => (r.files.length === 1 ? r.files[0].id : undefined) })
  @ApiOperation({
    summary: 'Upload one or more files into a folder of mine (or of one of my projects)',
    description:
      'multipart/form-data: files as `files` (repeated; `files[]` also works) or one as `file`; optional `path` (the folder, ' +
      'created when missing), `project_id`, `overwrite`. Each file streams to storage, its type told by its contents. ' +
      'All files are stored, or none.',
  })
  @ApiBody({ schema: UPLOAD_BODY_SCHEMA })
  @ApiCreatedResponse({ type: UploadResponse })
  @ApiNotFoundResponse({ description: 'project_id names no project of mine: "Project not found"', type: ErrorResponse })
  @ApiConflictResponse({ description: 'A file or folder of that name is already in the folder (send overwrite=true to replace a file)', type: ErrorResponse })
  @ApiPayloadTooLargeResponse({ description: 'FILE_TOO_LARGE: a file passes the plan\'s max_upload_bytes; STORAGE_QUOTA_EXCEEDED: the plan\'s storage_bytes', type: ErrorResponse })
  @ApiUnsupportedMediaTypeResponse({ description: 'INVALID_FILE_TYPE: the contents are of a type not accepted (FILES_ALLOWED_TYPES)', type: ErrorResponse })
  async upload(@CurrentUser() user: Principal, @Req() request: FastifyRequest): Promise<UploadResponse> {
    const actor = actorOf(user);
    const limits = await uploadLimitsOf(this.queries, { admin: actor.admin, level: user.level });
    const received = await receiveUpload(request, this.blobs.staging, { ...FILES_UPLOAD, limitBytes: limits.fileBytes });
    try {
      const { path, project_id: projectId, overwrite } = received.fields;
      const rows = await this.commands.execute(
        new UploadFilesCommand(actor, { files: received.files, path, projectId: projectId ? parseUuid(projectId, 'project_id') : undefined, overwrite: overwrite === 'true', limits }),
      );
      // Sizes and hashes, never contents.
      noteForAudit(user, { file_count: rows.length, bytes: rows.reduce((sum, row) => sum + row.size, 0), ...(rows.length === 1 ? { hash: rows[0].blobHash! } : {}) });
      return { files: rows.map(toFileResponse) };
    } finally {
      await Promise.all(received.files.map((file) => this.blobs.discard(file.staged)));
    }
  }

  @Get()
  @ApiOperation({ summary: 'The folders and files of one of my folders (folders first, then files, by name)' })
  @ApiOkResponse({ type: FolderListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: ListFilesRequest): Promise<FolderListResponse> {
    const { folder, rows, total } = await this.queries.execute(new ListFilesQuery(actorOf(user), query.path, query));
    return {
      path: folder,
      folders: rows.filter((row) => row.kind === 'folder').map(toFolderResponse),
      files: rows.filter((row) => row.kind === 'file').map(toFileResponse),
      pagination: pagination(total, query),
    };
  }

  @Post('mkdir')
  @Audit({ action: 'file.mkdir', resourceType: 'folder', resourceId: (r) => r.folder.id })
  @ApiOperation({ summary: 'Create a folder (and any missing parent)' })
  @ApiCreatedResponse({ type: MakeFolderResponse })
  @ApiConflictResponse({ description: 'Something of that name is already in the parent folder', type: ErrorResponse })
  async mkdir(@CurrentUser() user: Principal, @Body() body: MakeFolderRequest): Promise<MakeFolderResponse> {
    return { folder: toFolderResponse(await this.commands.execute(new MakeFolderCommand(actorOf(user), body.path, body.name))) };
  }

  @Get(':id/download')
  @ApiOperation({
    summary: 'Download a file',
    description: 'Streams the contents. Supports one `Range` (206; 416 when it starts past the end) and `If-None-Match` with the ETag (304).',
  })
  @ApiHeader({ name: 'Range', required: false, description: 'bytes=0-1023, bytes=1024- or bytes=-512' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The contents, with Content-Type, Content-Disposition (attachment), ETag, Last-Modified and Accept-Ranges' })
  @ApiResponse({ status: 206, description: 'The requested range, with Content-Range' })
  @ApiResponse({ status: 304, description: 'Not modified: If-None-Match named the current ETag' })
  @ApiResponse({ status: 416, description: 'RANGE_NOT_SATISFIABLE: the range starts past the end of the file (Content-Range: bytes */size)', type: ErrorResponse })
  @ApiNotFoundResponse(fileNotFound)
  async download(
    @CurrentUser() user: Principal,
    @UuidParam('id') id: string,
    @Headers('range') rangeHeader: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const file = await this.queries.execute(new GetFileQuery(actorOf(user), id));
    const etag = `"${file.blobHash}"`;
    void reply.header('etag', etag).header('last-modified', file.updatedAt.toUTCString()).header('accept-ranges', 'bytes').header('cache-control', 'private, no-cache');
    if (matchesEtag(ifNoneMatch, etag)) {
      await reply.status(304).send();
      return;
    }
    const range = parseRange(rangeHeader, file.size);
    if (range.kind === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${file.size}`);
      throw new AppError(ErrorCode.RANGE_NOT_SATISFIABLE, `The range starts past the end of the file (${file.size} bytes)`, { size: file.size });
    }
    const partial = range.kind === 'partial' ? range.range : undefined;
    const stream = await this.blobs.read(file.blobHash!, partial);
    void reply
      .header('content-type', contentType(file.mimeType ?? 'application/octet-stream'))
      .header('content-disposition', contentDisposition(file.name))
      .header('content-length', String(partial ? partial.end - partial.start + 1 : file.size));
    if (partial) void reply.status(206).header('content-range', `bytes ${partial.start}-${partial.end}/${file.size}`);
    await reply.send(stream);
  }

  @Delete(':id')
  @HttpCode(200)
  @Audit({ action: 'file.delete', resourceType: 'file' })
  @ApiOperation({ summary: 'Delete a file, or a folder (an empty one; with recursive=true, and everything in it)' })
  @ApiOkResponse({ type: DeletedFilesResponse })
  @ApiNotFoundResponse(fileNotFound)
  @ApiConflictResponse({ description: 'The folder is not empty and recursive=true was not given', type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam('id') id: string, @Query() query: DeleteFileRequest): Promise<DeletedFilesResponse> {
    const deleted = await this.commands.execute(new DeleteFileCommand(actorOf(user), id, query.recursive === 'true'));
    noteForAudit(user, { file_count: deleted.files, bytes: deleted.bytes, ...(deleted.hash ? { hash: deleted.hash } : {}) });
    return { success: true, deleted_files: deleted.files, freed_bytes: deleted.bytes };
  }
}

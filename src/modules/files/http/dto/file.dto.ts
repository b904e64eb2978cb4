import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';

export class FileResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'report.csv' }) filename!: string;
  @ApiProperty({ example: '/data', description: 'The folder the file is in' }) path!: string;
  @ApiProperty({ example: 2048 }) size!: number;
  @ApiProperty({ example: 'text/csv', description: 'Told by the contents, not by the name the client gave' }) mime_type!: string;
  @ApiProperty({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', description: 'SHA-256 of the contents' }) hash!: string;
  @ApiProperty({ example: '/api/v1/files/0b5c…/download' }) url!: string;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) project_id!: string | null;
  @ApiProperty() created_at!: string;
  @ApiProperty() updated_at!: string;
}

export class FolderResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'data' }) name!: string;
  @ApiProperty({ example: '/data', description: 'The folder\'s own path' }) path!: string;
  @ApiProperty() created_at!: string;
}

export class UploadResponse {
  @ApiProperty({ type: [FileResponse] }) files!: FileResponse[];
}

export class FolderListResponse {
  @ApiProperty({ example: '/', description: 'The folder listed' }) path!: string;
  @ApiProperty({ type: [FolderResponse] }) folders!: FolderResponse[];
  @ApiProperty({ type: [FileResponse] }) files!: FileResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class ListFilesRequest extends PageQuery {
  @ApiPropertyOptional({ default: '/', example: '/data', description: 'The folder to list' })
  @IsOptionalNotNull() @IsString() @MaxLength(1100)
  path?: string;
}

@ApiRequestExample({ path: '/', name: 'data' })
export class MakeFolderRequest {
  @ApiPropertyOptional({ default: '/', description: 'The parent folder (created when missing)' }) @IsOptionalNotNull() @IsString() @MaxLength(1100) path?: string;
  @ApiProperty({ example: 'data', maxLength: 255 }) @IsString() @MaxLength(1100) name!: string;
}

export class MakeFolderResponse {
  @ApiProperty({ type: FolderResponse }) folder!: FolderResponse;
}

export class DeleteFileRequest {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'A folder: delete everything in it too' })
  @IsOptionalNotNull() @IsIn(['true', 'false'])
  recursive?: 'true' | 'false';
}

export class DeletedFilesResponse {
  @ApiProperty({ example: true }) success!: true;
  @ApiProperty({ example: 1, description: 'Files deleted (those in a deleted folder included)' }) deleted_files!: number;
  @ApiProperty({ example: 2048, description: 'Bytes of storage given back' }) freed_bytes!: number;
}

/** The multipart body of POST /files/upload, for Swagger UI's form. */
export const UPLOAD_BODY_SCHEMA = {
  type: 'object',
  required: ['files'],
  properties: {
    files: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'One or more files (a single one may also come as `file`)' },
    path: { type: 'string', default: '/', description: 'The folder to put them in; missing folders are created' },
    project_id: { type: 'string', format: 'uuid', description: 'Store them in this project of mine instead of my own files' },
    overwrite: { type: 'string', enum: ['true', 'false'], default: 'false', description: 'Replace files of the same name instead of answering 409' },
  },
};

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsIn, IsOptional, IsString, IsUrl, Length, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { IsArrayOfObjects, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { ProjectInput } from '../../commands/create-project.command';
import { MAX_FILES_PER_WRITE, ProjectFileInput } from '../../commands/write-project-files.command';
import { JsonObject, PROJECT_TYPES, ProjectType } from '../../entities/project.entity';

const MAX_DESCRIPTION = 10_000;
const MAX_URL = 2048;
/** default_config as JSON, in UTF-8 bytes: settings, not a place to store files. */
export const MAX_CONFIG_BYTES = 16 * 1024;
/** Nesting of default_config (the object itself is level 1): settings need a few levels, never dozens. */
export const MAX_CONFIG_DEPTH = 8;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** How deeply a JSON value nests objects and arrays (a scalar: 0). Stops counting past `limit`. */
function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const item of Object.values(value)) deepest = Math.max(deepest, depthOf(item, limit - 1));
  return 1 + deepest;
}

/** A JSON object (not an array or null) of at most MAX_CONFIG_DEPTH levels and MAX_CONFIG_BYTES as JSON. */
const IsConfigObject = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isConfigObject',
      validator: {
        validate: (value: unknown) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          depthOf(value, MAX_CONFIG_DEPTH) <= MAX_CONFIG_DEPTH &&
          Buffer.byteLength(JSON.stringify(value)) <= MAX_CONFIG_BYTES,
        defaultMessage: () => `$property must be a JSON object nested at most ${MAX_CONFIG_DEPTH} levels deep and at most ${MAX_CONFIG_BYTES} bytes as JSON`,
      },
    },
    options,
  );

// Self-hosted git servers often have no public domain name (http://git.internal/...), so no TLD is required.
const REPOSITORY_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

const configDoc = {
  type: 'object',
  additionalProperties: true,
  example: { start_command: 'node index.js', env: { NODE_ENV: 'production' } },
  description: `A JSON object of settings, at most ${MAX_CONFIG_DEPTH} levels deep and ${MAX_CONFIG_BYTES} bytes as JSON`,
} as const;

@ApiRequestExample({ name: 'My API', description: 'A small HTTP service', type: 'nodejs', default_config: { start_command: 'node index.js' } })
export class CreateProjectRequest implements ProjectInput {
  @ApiProperty({ example: 'My API', maxLength: 100, description: 'Unique among your projects' }) @Transform(trim) @IsString() @Length(1, 100) name!: string;
  @ApiPropertyOptional({ default: '', maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;
  @ApiProperty({ enum: PROJECT_TYPES }) @IsIn(PROJECT_TYPES) type!: ProjectType;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_URL, example: 'https://github.com/me/my-api', description: 'An http or https URL' })
  @IsOptional() @IsString() @MaxLength(MAX_URL) @IsUrl(REPOSITORY_URL, { message: 'repository_url must be an http or https URL' })
  repository_url?: string | null;

  @ApiPropertyOptional({ ...configDoc, default: {} }) @IsOptionalNotNull() @IsConfigObject() default_config?: JsonObject;
}

/** Every field optional: only those sent change; null is refused (the columns are NOT NULL), but `repository_url: null` clears it. */
@ApiRequestExample({ description: 'A small HTTP service, now with a database' })
export class UpdateProjectRequest implements Partial<ProjectInput> {
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, 100) name?: string;
  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;
  @ApiPropertyOptional({ enum: PROJECT_TYPES }) @IsOptionalNotNull() @IsIn(PROJECT_TYPES) type?: ProjectType;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_URL, description: 'An http or https URL; null removes it' })
  @IsOptional() @IsString() @MaxLength(MAX_URL) @IsUrl(REPOSITORY_URL, { message: 'repository_url must be an http or https URL' })
  repository_url?: string | null;

  @ApiPropertyOptional(configDoc) @IsOptionalNotNull() @IsConfigObject() default_config?: JsonObject;
}

export class ProjectFileRequest implements ProjectFileInput {
  @ApiProperty({ example: '/src/index.js', maxLength: 1024, description: 'Folder and name; folders are created as needed' })
  @IsString() @Length(1, 1024)
  path!: string;

  @ApiProperty({ example: 'console.log("hello")\n', description: "The file's text, stored as UTF-8; at most the plan's max_upload_bytes" })
  @IsString()
  content!: string;
}

@ApiRequestExample({ files: [{ path: '/index.js', content: 'console.log("hello")\n' }, { path: '/package.json', content: '{"name": "my-api"}\n' }] })
export class WriteProjectFilesRequest {
  @ApiProperty({ type: [ProjectFileRequest], minItems: 1, maxItems: MAX_FILES_PER_WRITE })
  @IsArrayOfObjects(() => ProjectFileRequest) @ArrayMinSize(1) @ArrayMaxSize(MAX_FILES_PER_WRITE)
  files!: ProjectFileRequest[];
}

export class ProjectResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: PROJECT_TYPES }) type!: string;
  @ApiProperty({ type: String, nullable: true }) repository_url!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) default_config!: JsonObject;
  @ApiPropertyOptional({ description: 'How many files the project holds (GET /projects/:id only)' }) file_count?: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ProjectListResponse {
  @ApiProperty({ type: [ProjectResponse] }) projects!: ProjectResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class ProjectFileResponse {
  @ApiProperty({ example: '/src/index.js' }) path!: string;
  @ApiProperty({ description: 'Bytes' }) size!: number;
  @ApiProperty({ description: 'SHA-256 of the contents, lowercase hex', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }) hash!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ProjectFilesResponse {
  @ApiProperty({ type: [ProjectFileResponse] }) files!: ProjectFileResponse[];
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

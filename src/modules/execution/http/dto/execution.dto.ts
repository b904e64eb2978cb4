import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsString, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsArrayOfObjects, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { PeriodRequest } from '../../../../common/http/period';
import type { StartExecutionInput } from '../../commands/start-execution.command';
import type { RuntimeInfo, RuntimeList } from '../../queries/list-runtimes.query';
import { ApiRequestExample } from '../../../../common/http/swagger';

export const LANGUAGES = ['python', 'javascript'] as const;
export const STATUSES = ['queued', 'running', 'success', 'error', 'timeout', 'memory_limit', 'output_limit', 'killed', 'internal_error'] as const;
const MAX_SOURCE = 256 * 1024;
const MAX_STDIN = 256 * 1024;

export class SourceFile {
  @ApiProperty({ example: 'util.py', description: 'Relative path inside the working directory' })
  @IsString()
  @Length(1, 200)
  @Matches(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\-/]+$/, { message: 'path must be a relative path of letters, digits, . _ - and /' })
  path!: string;

  @ApiProperty({ example: 'def double(x):\n    return 2 * x\n' })
  @IsString()
  @MaxLength(MAX_SOURCE)
  content!: string;
}

export class TestCase {
  @ApiPropertyOptional({ default: '' }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_STDIN) stdin?: string;
  @ApiProperty({ example: '4\n' }) @IsString() @MaxLength(MAX_STDIN) expected_output!: string;
}

@ApiRequestExample({ code: "print('hello')", language: 'python' })
export class ExecuteRequest implements StartExecutionInput {
  @ApiProperty({ example: 'print("hello")', description: 'The program (the entry file when `files` are given)' })
  @IsString()
  @Length(1, MAX_SOURCE)
  code!: string;

  @ApiPropertyOptional({ enum: LANGUAGES, default: 'python' }) @IsOptionalNotNull() @IsIn(LANGUAGES) language?: (typeof LANGUAGES)[number];
  @ApiPropertyOptional({ default: '' }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_STDIN) stdin?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptionalNotNull() @IsUUID() environment_id?: string;

  @ApiPropertyOptional({ description: "Wall-time limit; at most the plan's", minimum: 100, maximum: 3_600_000, example: 3000 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  timeout_ms?: number;

  @ApiPropertyOptional({ description: "Memory limit; at most the plan's", minimum: 16, maximum: 65_536, example: 128 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(16)
  @Max(65_536)
  memory_mb?: number;

  @ApiPropertyOptional({ type: [String], description: 'Command-line arguments (sys.argv[1:], process.argv.slice(2))' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(1000, { each: true })
  args?: string[];

  @ApiPropertyOptional({ type: [SourceFile], description: 'More source files next to the entry file' })
  @IsOptionalNotNull()
  @IsArrayOfObjects(() => SourceFile)
  @ArrayMaxSize(20)
  files?: SourceFile[];

  @ApiPropertyOptional({ type: [TestCase], description: 'Run once per case; each gets its own result and `passed`' })
  @IsOptionalNotNull()
  @IsArrayOfObjects(() => TestCase)
  @ArrayMaxSize(50)
  tests?: TestCase[];
}

export class ExecuteQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'true', description: 'false: answer 202 at once and poll GET /executions/:id' })
  @IsOptionalNotNull()
  @IsIn(['true', 'false'])
  wait?: 'true' | 'false';
}

export class Truncated {
  @ApiProperty() stdout!: boolean;
  @ApiProperty() stderr!: boolean;
}

export class TestCaseResponse {
  @ApiProperty() stdin!: string;
  @ApiProperty() expected_output!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty() passed!: boolean;
  @ApiProperty({ type: Number, nullable: true }) exit_code!: number | null;
  @ApiProperty() stdout!: string;
  @ApiProperty() stderr!: string;
  @ApiProperty({ type: Truncated }) truncated!: Truncated;
  @ApiProperty() execution_time_ms!: number;
  @ApiProperty() memory_used_kb!: number;
}

export class ExecutionLimits {
  @ApiProperty() timeout_ms!: number;
  @ApiProperty() memory_mb!: number;
}

export class ExecutionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ type: Number, nullable: true }) exit_code!: number | null;
  @ApiProperty() stdout!: string;
  @ApiProperty() stderr!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Wall time of the program' }) execution_time_ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) cpu_time_ms!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Peak resident memory' }) memory_used_kb!: number | null;
  @ApiProperty({ type: Truncated }) truncated!: Truncated;
  @ApiProperty({ enum: LANGUAGES }) language!: string;
  @ApiProperty({ example: 'system' }) environment!: string;
  @ApiProperty({ enum: ['web', 'api'] }) source!: string;
  @ApiProperty({ type: ExecutionLimits }) limits!: ExecutionLimits;
  @ApiProperty() code!: string;
  @ApiPropertyOptional({ type: [TestCaseResponse] }) tests?: TestCaseResponse[];
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finished_at!: string | null;
}

export class QueuedExecutionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'queued' }) status!: string;
}

export class ExecutionListResponse {
  @ApiProperty({ type: [ExecutionResponse] }) executions!: ExecutionResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class ListExecutionsRequest extends IntersectionType(PageQuery, PeriodRequest) {
  @ApiPropertyOptional({ enum: STATUSES }) @IsOptionalNotNull() @IsIn(STATUSES) status?: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptionalNotNull() @IsIn(LANGUAGES) language?: string;
}

export class AdminListExecutionsRequest extends ListExecutionsRequest {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptionalNotNull() @IsUUID() user_id?: string;
}

export class RuntimeResponse implements RuntimeInfo {
  @ApiProperty({ enum: LANGUAGES }) language!: string;
  @ApiProperty({ example: '3.11.2' }) version!: string;
  @ApiProperty({ description: 'Default wall-time limit of the free plan' }) default_timeout_ms!: number;
  @ApiProperty({ description: 'Default memory limit of the free plan' }) default_memory_mb!: number;
  @ApiProperty({ description: 'Each of stdout and stderr is kept up to this many bytes' }) output_limit_bytes!: number;
}

export class RuntimeListResponse implements RuntimeList {
  @ApiProperty({ type: [RuntimeResponse] }) runtimes!: RuntimeResponse[];
  @ApiProperty({ enum: ['bwrap', 'none', 'unavailable'] }) sandbox!: string;
  @ApiPropertyOptional() sandbox_message?: string;
  @ApiPropertyOptional({
    enum: ['cgroup-v1', 'cgroup-v2', 'rlimit+watch'],
    description: "How a run's memory is limited: a memory cgroup per sandbox, or rlimits plus a watch of the process tree's resident memory",
  })
  memory_limit_mechanism?: string;
}

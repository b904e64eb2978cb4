import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsDate, IsObject, MaxDate, MinDate, ValidateIf, ValidateNested } from 'class-validator';

/**
 * A field that may be left out, but when sent, is validated, null included
 * (and so refused by the field's other rules). class-validator's @IsOptional()
 * skips null as well, which would let it through to a NOT NULL column; keep
 * @IsOptional() for fields where null means something, and say
 * `nullable: true` in their Swagger property.
 */
export const IsOptionalNotNull = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * An array of objects, each validated as `type`. @ValidateNested alone
 * accepts an array as an item (and validates its items instead), so `[[]]`
 * would pass as an array of anything.
 */
export const IsArrayOfObjects = (type: () => new () => object): PropertyDecorator =>
  applyDecorators(IsArray(), IsObject({ each: true, message: 'each value in $property must be an object' }), ValidateNested({ each: true }), Type(type));

const EARLIEST = new Date('0001-01-01T00:00:00.000Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');

/**
 * A date (convert with @Type(() => Date)) in the years 1 to 9999: JavaScript
 * takes years far outside what PostgreSQL stores, and the query would fail.
 */
export const IsDateInRange = (): PropertyDecorator =>
  applyDecorators(
    IsDate(),
    MinDate(EARLIEST, { message: '$property must be in the year 1 or later' }),
    MaxDate(LATEST, { message: '$property must be in the year 9999 or earlier' }),
  );

/**
 * The requirement strings pip is given: a PEP 508 name, optional extras and
 * version specifiers, nothing else. No markers, URLs or paths, and nothing
 * starting with `-`, so a request can never smuggle an option (`-r file`,
 * `--index-url=...`) or a location into pip's argument list.
 */
const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?';
const EXTRAS = `\\[\\s*${NAME}(?:\\s*,\\s*${NAME})*\\s*\\]`;
const VERSION = '[A-Za-z0-9*+!._-]+';
const SPECIFIER = `(?:~=|===|==|!=|<=|>=|<|>)\\s*${VERSION}`;
const REQUIREMENT = new RegExp(`^(${NAME})\\s*(?:${EXTRAS})?\\s*(?:${SPECIFIER}(?:\\s*,\\s*${SPECIFIER})*)?$`);
const PACKAGE_NAME = new RegExp(`^${NAME}$`);

export const MAX_REQUIREMENT_LENGTH = 200;

export function isRequirement(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_REQUIREMENT_LENGTH && REQUIREMENT.test(value);
}

/** A bare distribution name (the `:package` of uninstall and upgrade). */
export function isPackageName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 100 && PACKAGE_NAME.test(value);
}

/** The distribution name of a valid requirement. */
export function requirementName(requirement: string): string {
  return REQUIREMENT.exec(requirement)?.[1] ?? requirement;
}

/** PEP 503 normalized name: how pip compares names (`Foo_Bar.baz` is `foo-bar-baz`). */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

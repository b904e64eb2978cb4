/**
 * What text shown to other people may not hold. C0 and C1 control characters
 * (NUL, escapes a terminal would act on), DEL, the line and paragraph
 * separators, and the bidirectional embeddings, overrides and isolates, which
 * make text read otherwise than it is stored (a file name, a profile's name, a
 * post's title).
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL_OR_DECEPTIVE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Text shown on one line (a name, a title, a link): none of CONTROL_OR_DECEPTIVE. For class-validator's @Matches. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const SINGLE_LINE_TEXT = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$/u;

/** Text that may run over lines (a bio): tab, LF and CR, and no other control character. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const MULTI_LINE_TEXT = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$/u;

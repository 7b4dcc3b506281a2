/** The environment as hms reads it: passed in (never process.env directly), so tests can give their own. */
export type Env = Record<string, string | undefined>

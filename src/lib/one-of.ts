/** Is `value` one of `list` (a `const` tuple)? Narrows it to the tuple's type, so no cast is needed. */
export function isOneOf<const T extends string>(list: readonly T[], value: string | undefined): value is T {
  return (list as readonly (string | undefined)[]).includes(value)
}

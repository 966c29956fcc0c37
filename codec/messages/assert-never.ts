/** Exhaustiveness check for switches over discriminated unions (style.md §2.3). */
export function assertNever(x: never): never {
  throw new Error(
    `unhandled variant ${String((x as { kind?: unknown; type?: unknown }).kind ?? (x as { type?: unknown }).type)}`,
  );
}

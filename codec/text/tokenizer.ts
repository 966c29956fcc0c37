/**
 * The ovs-ofctl flow-syntax tokenizer (OVS `ofputil_parse_key_value`,
 * `parse_value` and `ofp_extract_actions` in lib/ofp-parse.c).
 *
 * A flow is a list of `key`, `key=value`, `key:value` or `key(value)` items
 * separated by commas or white space. A value ends at the next comma or white
 * space, except that parentheses nest (`learn(...)`, `ct(commit,exec(...))`),
 * and `key(x)->y` keeps the `->y` tail (`load(...)->dst` forms).
 */

export interface KeyValue {
  readonly key: string;
  /** Empty string when the item has no value (`ip`, `drop`, `send_flow_rem`). */
  readonly value: string;
  /** The delimiter that ended the key: "=", ":", "(" or "" (no value). */
  readonly delim: "=" | ":" | "(" | "";
}

const SPACE = ", \t\r\n";

/** Length of the value starting at `start`, stopping at any of `delims`, skipping balanced parentheses. */
function valueLength(s: string, start: number, delims: string): number {
  let n = start;
  while (n < s.length && !delims.includes(s[n]!)) {
    if (s[n] === "(") {
      let level = 0;
      do {
        if (n >= s.length) return n - start;
        if (s[n] === "(") level++;
        else if (s[n] === ")") level--;
        n++;
      } while (level > 0);
    } else {
      n++;
    }
  }
  return n - start;
}

/** Splits `text` into key/value items exactly as OVS does. */
export function splitKeyValues(text: string): KeyValue[] {
  const out: KeyValue[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && SPACE.includes(text[pos]!)) pos++;
    if (pos >= text.length) return out;
    let keyEnd = pos;
    while (keyEnd < text.length && !":=(, \t\r\n".includes(text[keyEnd]!)) keyEnd++;
    const key = text.slice(pos, keyEnd);
    const delimChar = keyEnd < text.length ? text[keyEnd]! : "";
    pos = keyEnd + (delimChar === "" ? 0 : 1);
    if (delimChar !== ":" && delimChar !== "=" && delimChar !== "(") {
      out.push({ key, value: "", delim: "" });
      continue;
    }
    let delims = delimChar === "(" ? ")" : SPACE;
    let len = valueLength(text, pos, delims);
    // "key(x)->y": the value runs on to the next separator.
    if (delimChar === "(" && text[pos + len] === ")" && text.startsWith("->", pos + len + 1)) {
      delims = SPACE;
      len += valueLength(text, pos + len, delims);
    }
    const value = text.slice(pos, pos + len);
    const after = pos + len;
    pos = after + (after < text.length ? 1 : 0);
    out.push({ key, value, delim: delimChar });
  }
}

/**
 * `ofp_extract_actions`: finds the first "action" and returns the text before it
 * and the text after the following "=" (the action list), or undefined when the
 * flow has no actions clause.
 */
export function extractActions(text: string): { match: string; actions: string | undefined } {
  const at = text.indexOf("action");
  if (at < 0) return { match: text, actions: undefined };
  const eq = text.indexOf("=", at + 1);
  return { match: text.slice(0, at), actions: eq < 0 ? undefined : text.slice(eq + 1) };
}

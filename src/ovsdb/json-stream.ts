/**
 * Framing of the OVSDB wire: RFC 7047 §4 sends JSON-RPC messages as bare
 * JSON texts one after another on the stream, with no length prefix and no
 * delimiter (ovsdb-server writes `{…}{…}`, some clients add newlines). A
 * message ends where its outermost object closes, so the framer tracks
 * nesting depth, whether it is inside a string, and whether the previous
 * byte was a backslash in that string.
 *
 * It works on bytes, not characters: every structural character (`{ } [ ]
 * " \`) is ASCII and UTF-8 never reuses ASCII bytes inside a multi-byte
 * sequence, so a chunk boundary in the middle of a character is harmless;
 * the text is decoded only once the message is complete.
 *
 * Each byte is scanned once; a message that spans chunks keeps references to
 * its pieces and is joined once at its end.
 */

/** ASCII codes of the structural bytes (RFC 8259 §2, §7). */
const BYTE = {
  quote: 0x22,
  backslash: 0x5c,
  openBrace: 0x7b,
  closeBrace: 0x7d,
  openBracket: 0x5b,
  closeBracket: 0x5d,
  space: 0x20,
  tab: 0x09,
  lf: 0x0a,
  cr: 0x0d,
} as const;

/** A generous bound: a full vswitch dump of thousands of ports is a few MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The stream is not a sequence of JSON objects; the connection cannot recover. */
export class JsonStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonStreamError";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Splits a byte stream into complete top-level JSON values (objects or
 * arrays) and parses each. Feed it chunks as they arrive; it returns the
 * values completed by each chunk, in order.
 */
export class JsonStreamParser {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Pieces of the message in progress (already-scanned bytes). */
  private pieces: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** True when no partial message is buffered (the stream may end cleanly here). */
  get idle(): boolean {
    return this.depth === 0 && this.pendingBytes === 0;
  }

  /** Scans `chunk` and returns every value it completes. Throws {@link JsonStreamError}. */
  push(chunk: Uint8Array): unknown[] {
    const out: unknown[] = [];
    let start = this.depth === 0 ? -1 : 0; // start of the current message within chunk
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.depth === 0) {
        // Between messages: only whitespace may appear (RFC 8259 §2).
        if (b === BYTE.openBrace || b === BYTE.openBracket) {
          this.depth = 1;
          start = i;
          continue;
        }
        if (b === BYTE.space || b === BYTE.lf || b === BYTE.cr || b === BYTE.tab) continue;
        throw new JsonStreamError(
          `unexpected byte 0x${b.toString(16).padStart(2, "0")} between JSON-RPC messages`,
        );
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BYTE.backslash) this.escaped = true;
        else if (b === BYTE.quote) this.inString = false;
        continue;
      }
      if (b === BYTE.quote) this.inString = true;
      else if (b === BYTE.openBrace || b === BYTE.openBracket) this.depth++;
      else if (b === BYTE.closeBrace || b === BYTE.closeBracket) {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.finish(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxMessageBytes) {
        throw new JsonStreamError(`JSON-RPC message exceeds ${this.maxMessageBytes} bytes`);
      }
      this.pieces.push(rest);
    }
    return out;
  }

  private finish(last: Uint8Array): unknown {
    let bytes = last;
    if (this.pieces.length > 0) {
      bytes = new Uint8Array(this.pendingBytes + last.length);
      let off = 0;
      for (const p of this.pieces) {
        bytes.set(p, off);
        off += p.length;
      }
      bytes.set(last, off);
      this.pieces = [];
      this.pendingBytes = 0;
    }
    if (bytes.length > this.maxMessageBytes) {
      throw new JsonStreamError(`JSON-RPC message exceeds ${this.maxMessageBytes} bytes`);
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new JsonStreamError("JSON-RPC message is not valid UTF-8");
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new JsonStreamError(`malformed JSON-RPC message: ${(e as Error).message}`);
    }
  }
}

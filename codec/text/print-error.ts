/**
 * A check OVS's decoder makes while decoding a message for printing that the
 * codec's decoder does not make (or makes elsewhere): the printer throws it
 * and `ofpPrint` shows `***decode error: CODE***` as ovs-ofctl does.
 */
export class PrintDecodeError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

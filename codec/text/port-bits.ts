/**
 * OF1.1+ port bit names as OVS prints them (`ofputil_port_config_to_name`,
 * `ofputil_port_state_to_name`, `netdev_feature_to_name`), shared by the
 * port description (`ofputil_phy_port_format`) and PORT_MOD printers.
 */

/** OF1.1+ port config bits OVS keeps (OFPPC11_ALL) and their names. */
export const PORT_CONFIG_NAMES = new Map<number, string>([
  [1 << 0, "PORT_DOWN"],
  [1 << 2, "NO_RECV"],
  [1 << 5, "NO_FWD"],
  [1 << 6, "NO_PACKET_IN"],
]);
export const OFPPC11_ALL = 0x65;

/** OF1.1+ port state bits OVS keeps (OFPPS11_ALL) and their names. */
export const PORT_STATE_NAMES = new Map<number, string>([
  [1 << 0, "LINK_DOWN"],
  [1 << 1, "BLOCKED"],
  [1 << 2, "LIVE"],
]);
export const OFPPS11_ALL = 0x7;

/** `netdev_feature_to_name`, by OF1.1+ feature bit (the low 16 bits OVS keeps). */
export const PORT_FEATURE_NAMES = new Map<number, string>(
  [
    "10MB-HD",
    "10MB-FD",
    "100MB-HD",
    "100MB-FD",
    "1GB-HD",
    "1GB-FD",
    "10GB-FD",
    "40GB-FD",
    "100GB-FD",
    "1TB-FD",
    "OTHER",
    "COPPER",
    "FIBER",
    "AUTO_NEG",
    "AUTO_PAUSE",
    "AUTO_PAUSE_ASYM",
  ].map((n, i) => [1 << i, n] as const),
);
/** The feature bits OVS keeps from a 32-bit OF1.1+ feature word. */
export const PORT_FEATURES_KEPT = 0xffff;

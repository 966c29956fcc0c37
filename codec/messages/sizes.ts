/**
 * Fixed sizes of the OF1.3 wire structures, in bytes, as the spec's
 * `OFP_ASSERT(sizeof(...) == N)` lines give them (and Ryu's `*_SIZE`
 * constants). Message sizes include the 8-byte `ofp_header`; sizes of
 * structures that embed an `ofp_match` count the empty 8-byte match, as the
 * spec does. The registry checks each message row against these, and
 * test/codec/messages.test.ts checks that encoders produce exactly them.
 */
export { OFP_HEADER_SIZE } from "../header.js";

export const OFP_MATCH_SIZE = 8;

export const OFP_HELLO_ELEM_HEADER_SIZE = 4;
export const OFP_ERROR_MSG_SIZE = 12;
export const OFP_ERROR_EXPERIMENTER_MSG_SIZE = 16;
export const OFP_EXPERIMENTER_HEADER_SIZE = 16;
export const OFP_SWITCH_FEATURES_SIZE = 32;
export const OFP_SWITCH_CONFIG_SIZE = 12;
export const OFP_PACKET_IN_SIZE = 32;
export const OFP_FLOW_REMOVED_SIZE = 56;
export const OFP_PORT_SIZE = 64;
export const OFP_PORT_STATUS_SIZE = 80;
export const OFP_PACKET_OUT_SIZE = 24;
export const OFP_FLOW_MOD_SIZE = 56;
export const OFP_GROUP_MOD_SIZE = 16;
export const OFP_BUCKET_SIZE = 16;
export const OFP_PORT_MOD_SIZE = 40;
export const OFP_TABLE_MOD_SIZE = 16;
export const OFP_MULTIPART_REQUEST_SIZE = 16;
export const OFP_MULTIPART_REPLY_SIZE = 16;
export const OFP_QUEUE_GET_CONFIG_REQUEST_SIZE = 16;
export const OFP_QUEUE_GET_CONFIG_REPLY_SIZE = 16;
export const OFP_PACKET_QUEUE_SIZE = 16;
export const OFP_QUEUE_PROP_HEADER_SIZE = 8;
export const OFP_QUEUE_PROP_RATE_SIZE = 16;
export const OFP_QUEUE_PROP_EXPERIMENTER_SIZE = 16;
export const OFP_ROLE_REQUEST_SIZE = 24;
export const OFP_ASYNC_CONFIG_SIZE = 32;
export const OFP_METER_MOD_SIZE = 16;
export const OFP_METER_BAND_HEADER_SIZE = 12;
export const OFP_METER_BAND_DROP_SIZE = 16;
export const OFP_METER_BAND_DSCP_REMARK_SIZE = 16;
export const OFP_METER_BAND_EXPERIMENTER_SIZE = 16;

/** ONF bundle extension (EXT-230) in OF1.3 experimenter framing. */
export const ONF_BUNDLE_CTRL_SIZE = 24;
export const ONF_BUNDLE_ADD_SIZE = 24;

// Multipart bodies (without the 16-byte multipart header).
export const OFP_DESC_SIZE = 1056;
export const OFP_FLOW_STATS_REQUEST_SIZE = 40;
export const OFP_FLOW_STATS_SIZE = 56;
export const OFP_AGGREGATE_STATS_REPLY_SIZE = 24;
export const OFP_TABLE_STATS_SIZE = 24;
export const OFP_PORT_STATS_REQUEST_SIZE = 8;
export const OFP_PORT_STATS_SIZE = 112;
export const OFP_QUEUE_STATS_REQUEST_SIZE = 8;
export const OFP_QUEUE_STATS_SIZE = 40;
export const OFP_GROUP_STATS_REQUEST_SIZE = 8;
export const OFP_GROUP_STATS_SIZE = 40;
export const OFP_BUCKET_COUNTER_SIZE = 16;
export const OFP_GROUP_DESC_SIZE = 8;
export const OFP_GROUP_FEATURES_SIZE = 40;
export const OFP_METER_MULTIPART_REQUEST_SIZE = 8;
export const OFP_METER_STATS_SIZE = 40;
export const OFP_METER_BAND_STATS_SIZE = 16;
export const OFP_METER_CONFIG_SIZE = 8;
export const OFP_METER_FEATURES_SIZE = 16;
export const OFP_TABLE_FEATURES_SIZE = 64;
export const OFP_TABLE_FEATURE_PROP_HEADER_SIZE = 4;
export const OFP_EXPERIMENTER_MULTIPART_HEADER_SIZE = 8;

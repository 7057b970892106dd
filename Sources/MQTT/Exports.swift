// The packets, their decoder and encoder live in MQTTCodec (no sockets, no TLS: the fuzz build
// and byte-for-byte tests use it alone); users of the client see them through this module.
@_exported import MQTTCodec

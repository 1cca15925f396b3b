/*
 * err.c - descriptions of the core's error codes. A switch (not a table indexed by the
 * code) keeps each text next to its code and lets the compiler flag duplicates.
 */
#include "core/err.h"

const char *eh_strerror(int code)
{
    switch ((enum eh_err)code) {
    case EH_OK: return "success";
    case EH_ERR_INVAL: return "invalid argument";
    case EH_ERR_STATE: return "not allowed in this state";
    case EH_ERR_NOSPACE: return "not enough buffer space";
    case EH_ERR_NOSTORAGE: return "no storage attached";
    case EH_ERR_TOO_BIG: return "datagram longer than 65535 bytes";
    case EH_ERR_ADDR_EMPTY: return "empty address";
    case EH_ERR_ADDR_TOO_LONG: return "address too long";
    case EH_ERR_ADDR_NO_PORT: return "missing port";
    case EH_ERR_ADDR_BAD_PORT: return "port is not a number";
    case EH_ERR_ADDR_PORT_RANGE: return "port out of range";
    case EH_ERR_ADDR_BRACKET: return "unbalanced or misplaced brackets";
    case EH_ERR_ADDR_BAD_V6: return "invalid IPv6 address";
    case EH_ERR_ADDR_BARE_V6: return "IPv6 address with a port needs brackets, as in [::1]:7";
    case EH_ERR_ADDR_BAD_HOST: return "invalid host name";
    case EH_ERR_ADDR_BAD_V4: return "invalid IPv4 address";
    case EH_ERR_ADDR_BAD_PREFIX: return "invalid network prefix length";
    case EH_ERR_ADDR_BAD_SCOPE: return "invalid IPv6 scope id (numeric only)";
    case EH_ERR_ADDR_NO_HOST: return "missing host";
    case EH__ERR_MIN: break;
    }
    return "unknown error";
}

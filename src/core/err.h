/*
 * err.h - the single error enum of echoharness's core, and its descriptions.
 *
 * Every core function returns 0 for success or a negative EH_ERR_* value from this enum.
 * "Need more input", "would block" and "buffer full" are states, not errors, and are not
 * here. Codes are stable: append new ones, never renumber.
 */
#ifndef EH_CORE_ERR_H
#define EH_CORE_ERR_H

enum eh_err {
    EH_OK = 0,
    EH_ERR_INVAL = -1,        /* an argument breaks the function's contract */
    EH_ERR_STATE = -2,        /* the call is not allowed in the object's current state */
    EH_ERR_NOSPACE = -3,      /* more bytes than the free space or the cap allows */
    EH_ERR_NOSTORAGE = -4,    /* bytes must be queued but no storage is attached */
    EH_ERR_TOO_BIG = -5,      /* a datagram longer than 65535 bytes */

    /* Address parsing (ea_). */
    EH_ERR_ADDR_EMPTY = -20,       /* the text is empty */
    EH_ERR_ADDR_TOO_LONG = -21,    /* longer than a host name (253) plus port may be */
    EH_ERR_ADDR_NO_PORT = -22,     /* "host" or "host:" without a port */
    EH_ERR_ADDR_BAD_PORT = -23,    /* the port is not a decimal number */
    EH_ERR_ADDR_PORT_RANGE = -24,  /* the port is above 65535 (or 0 where 0 is refused) */
    EH_ERR_ADDR_BRACKET = -25,     /* "[" without "]", or text between "]" and ":" */
    EH_ERR_ADDR_BAD_V6 = -26,      /* the text in brackets is not an IPv6 address */
    EH_ERR_ADDR_BARE_V6 = -27,     /* an IPv6 address with a port but without brackets */
    EH_ERR_ADDR_BAD_HOST = -28,    /* the host is neither an address nor a valid name */
    EH_ERR_ADDR_BAD_V4 = -29,      /* looks like dotted IPv4 but is not a valid address */
    EH_ERR_ADDR_BAD_PREFIX = -30,  /* a network's "/len" is missing, not a number or too long */
    EH_ERR_ADDR_BAD_SCOPE = -31,   /* an IPv6 "%scope" that is empty, not numeric or too big */
    EH_ERR_ADDR_NO_HOST = -32,     /* ":port" or a port alone where "host:port" is required */

    EH__ERR_MIN = -99
};

/* eh_strerror() returns a static, human-readable, lower-case description of a code (no
 * trailing period), for messages such as "echod: bad --listen: port out of range". An
 * unknown code gives "unknown error". Never returns NULL. */
const char *eh_strerror(int code);

#endif

/*
 * error.c - pto_strerror and pto_err_name, generated from PTO_ERRNO_MAP so
 * the texts can never drift from the enum.
 */
#include "pto/errors.h"

const char *pto_strerror(int status)
{
    switch (status) {
#define PTO__ERR_TEXT(name, value, text)                                       \
    case (value):                                                              \
        return (text);
        PTO_ERRNO_MAP(PTO__ERR_TEXT)
#undef PTO__ERR_TEXT
    default:
        return "unknown pto status code";
    }
}

const char *pto_err_name(int status)
{
    switch (status) {
#define PTO__ERR_NAME(name, value, text)                                       \
    case (value):                                                              \
        return "PTO_" #name;
        PTO_ERRNO_MAP(PTO__ERR_NAME)
#undef PTO__ERR_NAME
    default:
        return "PTO_E?";
    }
}

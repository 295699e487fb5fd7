/*
 * pto/export.h - symbol visibility. The library is built with
 * -fvisibility=hidden; only declarations marked PTO_API are exported.
 */
#ifndef PTO_EXPORT_H
#define PTO_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define PTO_API __attribute__((visibility("default")))
#define PTO_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define PTO_API
#define PTO_WARN_UNUSED
#endif

#endif /* PTO_EXPORT_H */

/* The version every hallbus program prints for --version. */
#ifndef HALLBUS_VERSION_H
#define HALLBUS_VERSION_H

#define HB_VERSION "0.1.0"

#endif

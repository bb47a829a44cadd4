#include "check/battery.h"
static const struct ck_def defs[] = {{0}};
const struct ck_table ck_socks5_checks = {defs, 0};

# Host unit tests (cmocka), compiled from the unmodified hypervisor sources.
UNIT_CFLAGS := -std=gnu11 -O2 -g -I. -DHV_HOST_TEST -Wall -Wextra -Werror -Wno-address-of-packed-member
UNIT_LIBS := -lcmocka
UNIT_TESTS :=
unit:

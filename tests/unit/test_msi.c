/* SPDX-License-Identifier: MIT */
/*
 * hv/irq/msi.c: the decode of an MSI address/data pair (Intel SDM Vol. 3A, "Message
 * Address Register Format", "Message Data Register Format") and the drops, counted per
 * VM. vlapic_deliver() is a fake that records what reaches it.
 */
#include "tests/unit/support.h"
#include "hv/irq/msi.h"
#include "hv/irq/vlapic.h"
#include "hv/vm/vm.h"

static struct vm vm;

struct msg {
	u32 sh, dest;
	bool logical;
	u8 dm, vector;
	bool level;
};
static struct msg msgs[16];
static unsigned nmsgs;

void vlapic_deliver(struct vm *v, struct vcpu *src, u32 shorthand, u32 dest, bool logical, u8 dm,
		    u8 vector, bool level)
{
	assert_ptr_equal(v, &vm);
	assert_null(src);
	assert_true(nmsgs < ARRAY_SIZE(msgs));
	msgs[nmsgs++] = (struct msg){ shorthand, dest, logical, dm, vector, level };
}

static int setup(void **state)
{
	(void)state;
	memset(&vm, 0, sizeof(vm));
	nmsgs = 0;
	return 0;
}

static void fixed_physical(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee01000, 0x0041, &m), MSI_OK);
	assert_int_equal(m.dest, 1);
	assert_false(m.logical);
	assert_false(m.rh);
	assert_int_equal(m.dm, DM_FIXED);
	assert_int_equal(m.vector, 0x41);
	assert_false(m.level);
	/* Destination 0xff, the xAPIC broadcast. */
	assert_int_equal(msi_decode(0xfeeff000, 0x0050, &m), MSI_OK);
	assert_int_equal(m.dest, 0xff);
}

static void logical_and_redirection_hint(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee03004, 0x0042, &m), MSI_OK);   /* DM = 1 */
	assert_true(m.logical);
	assert_int_equal(m.dest, 3);
	assert_int_equal(m.dm, DM_FIXED);
	/* RH = 1: lowest priority among the destinations. */
	assert_int_equal(msi_decode(0xfee0300c, 0x0042, &m), MSI_OK);
	assert_true(m.rh);
	assert_int_equal(m.dm, DM_LOWEST);
	assert_int_equal(msi_decode(0xfee03004, 0x0142, &m), MSI_OK);   /* delivery mode 001 */
	assert_int_equal(m.dm, DM_LOWEST);
}

static void delivery_modes_and_trigger(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfee00000, 0x0400, &m), MSI_OK);   /* NMI, vector ignored */
	assert_int_equal(m.dm, DM_NMI);
	assert_int_equal(msi_decode(0xfee00000, 0x0500, &m), MSI_OK);   /* INIT */
	assert_int_equal(m.dm, DM_INIT);
	assert_int_equal(msi_decode(0xfee00000, 0x0200, &m), MSI_DROP_DELIVERY);   /* SMI */
	assert_int_equal(msi_decode(0xfee00000, 0x0330, &m), MSI_DROP_DELIVERY);   /* 011 reserved */
	assert_int_equal(msi_decode(0xfee00000, 0x0630, &m), MSI_DROP_DELIVERY);   /* 110 reserved */
	assert_int_equal(msi_decode(0xfee00000, 0x0730, &m), MSI_DROP_DELIVERY);   /* ExtINT */
	/* Level trigger: assert delivers as level, deassert is dropped. */
	assert_int_equal(msi_decode(0xfee00000, 0xc045, &m), MSI_OK);
	assert_true(m.level);
	assert_int_equal(msi_decode(0xfee00000, 0x8045, &m), MSI_DROP_DEASSERT);
	/* Level bit without level trigger: edge. */
	assert_int_equal(msi_decode(0xfee00000, 0x4045, &m), MSI_OK);
	assert_false(m.level);
	/* Vectors 0-15 are illegal for fixed and lowest priority. */
	assert_int_equal(msi_decode(0xfee00000, 0x000f, &m), MSI_DROP_VECTOR);
	assert_int_equal(msi_decode(0xfee00000, 0x0010, &m), MSI_OK);
}

static void bad_addresses(void **state)
{
	(void)state;
	struct msi_msg m;
	assert_int_equal(msi_decode(0xfed00000, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0x1fee00000ull, 0x41, &m), MSI_DROP_ADDRESS);
	assert_int_equal(msi_decode(0xfef00000, 0x41, &m), MSI_DROP_ADDRESS);
}

static void deliver_and_count(void **state)
{
	(void)state;
	assert_int_equal(msi_deliver(&vm, 0xfee01000, 0x0051), MSI_OK);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msgs[0].sh, SH_NONE);
	assert_int_equal(msgs[0].dest, 1);
	assert_int_equal(msgs[0].vector, 0x51);
	assert_int_equal(msgs[0].dm, DM_FIXED);
	assert_int_equal(msi_deliver(&vm, 0x12345678, 0x0051), MSI_DROP_ADDRESS);
	assert_int_equal(msi_deliver(&vm, 0xfee00000, 0x0651), MSI_DROP_DELIVERY);
	assert_int_equal(msi_deliver(&vm, 0xfee00000, 0x0001), MSI_DROP_VECTOR);
	assert_int_equal(nmsgs, 1);
	assert_int_equal(msi_stats_of(&vm)->delivered, 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_ADDRESS], 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_DELIVERY], 1);
	assert_int_equal(msi_stats_of(&vm)->dropped[MSI_DROP_VECTOR], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(fixed_physical, setup),
		cmocka_unit_test_setup(logical_and_redirection_hint, setup),
		cmocka_unit_test_setup(delivery_modes_and_trigger, setup),
		cmocka_unit_test_setup(bad_addresses, setup),
		cmocka_unit_test_setup(deliver_and_count, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

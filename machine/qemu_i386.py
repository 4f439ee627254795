# SPDX-License-Identifier: GPL-2.0
# i386 without PAE (32-bit phys_addr_t, HIGHMEM4G): kunit.py's own i386
# machine (QEMU "pc", no PCI devices of ours); 1 GiB so that some memory
# is highmem.
from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='i386',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_HIGHMEM4G=y
# CONFIG_X86_PAE is not set''',
			   qemu_arch='i386',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 panic_on_warn=1 panic=-1',
			   extra_qemu_params=['-m', '1024'])

# SPDX-License-Identifier: GPL-2.0
# i386 with PAE (HIGHMEM64G: 64-bit phys_addr_t on a 32-bit kernel), with
# 5 GiB of RAM so that real pages live above 4 GiB.
from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='i386',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_HIGHMEM64G=y
CONFIG_X86_PAE=y''',
			   qemu_arch='i386',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 panic_on_warn=1 panic=-1',
			   extra_qemu_params=['-m', '5120'])

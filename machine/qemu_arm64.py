# SPDX-License-Identifier: GPL-2.0
# The arm64 test machine as a kunit.py --qemu_config: QEMU "virt" (TCG)
# with the x86_64 machine's PCIe topology (machine/x86_64.qemu-args): an
# edu DMA engine and an NVMe controller with a 64 MiB CMB behind one PCIe
# switch, and a second edu on a root port of its own.  Kconfig in
# machine/arm64.config.  The PCIe host is described by the device tree as
# DMA-coherent; a device that firmware does not describe, such as a KUnit
# device, is not, so its DMA does real cache maintenance and bounces small
# kmalloc() buffers (CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC).
#
# PHYR_MAP_PROFILE:
#   smmuv3   iommu=smmuv3: the PCIe devices behind an SMMUv3 (the default)
#   direct   no IOMMU: dma-direct
# PHYR_KUNIT_INITRD=<cpio>: go on to its /init after the built-in suites,
# as machine/qemu_x86_64.py does.
import os

from ..qemu_config import QemuArchParams

_dir = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_dir, 'arm64.config')) as _f:
	_kconfig = _f.read()

_profile = os.environ.get('PHYR_MAP_PROFILE', 'smmuv3')
if _profile == 'smmuv3':
	_machine = 'virt,iommu=smmuv3'
elif _profile == 'direct':
	_machine = 'virt'
else:
	raise ValueError('PHYR_MAP_PROFILE: unknown arm64 profile ' + _profile)

_cmdline = ('console=ttyAMA0 iommu.strict=1 kasan_multi_shot '
	    'panic_on_warn=1 panic=-1 kmemleak.verbose=1')
_params = [
	'-machine', _machine, '-cpu', 'max,pauth-impdef=on',
	'-smp', '2', '-m', '2048',
	'-device', 'x3130-upstream,id=up0,bus=pcie.0,addr=0x4',
	'-device', 'xio3130-downstream,id=dn0,bus=up0,chassis=1,slot=1',
	'-device', 'xio3130-downstream,id=dn1,bus=up0,chassis=1,slot=2',
	'-device', 'edu,id=edu0,bus=dn0,dma_mask=0xffffffffffffffff',
	'-device', 'nvme,id=nvme0,serial=phyrcmb,cmb_size_mb=64,bus=dn1',
	'-device', 'pcie-root-port,id=rp0,bus=pcie.0,chassis=2,slot=1,addr=0x5',
	'-device', 'edu,id=edu1,bus=rp0,dma_mask=0xffffffffffffffff',
]
_initrd = os.environ.get('PHYR_KUNIT_INITRD')
if _initrd:
	_params += ['-initrd', _initrd]
	_cmdline += ' rdinit=/init --'

QEMU_ARCH = QemuArchParams(linux_arch='arm64',
			   kconfig=_kconfig,
			   qemu_arch='aarch64',
			   kernel_path='arch/arm64/boot/Image.gz',
			   kernel_command_line=_cmdline,
			   extra_qemu_params=_params)

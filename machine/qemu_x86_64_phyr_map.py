# SPDX-License-Identifier: GPL-2.0
# The phyr test machine (machine/x86_64.*, unchanged) booted in one of the
# phyr_map profiles, as a kunit.py --qemu_config (used by mk/phyr_map.sh):
#
#   PHYR_MAP_PROFILE=iommu    as machine/qemu_x86_64.py: Intel IOMMU on
#   PHYR_MAP_PROFILE=noiommu  intel_iommu=off: dma-direct, real P2P DMA
#   PHYR_MAP_PROFILE=swiotlb  intel_iommu=off swiotlb=force: bouncing
#
# PHYR_MAP_BENCH_MB=<n> also runs the phyr_map_bench suite on n MiB lists,
# with 4 GiB of RAM.
# PHYR_KUNIT_INITRD=<cpio>: boot /init after the suites, as in
# machine/qemu_x86_64.py.
import os

from ..qemu_config import QemuArchParams

_dir = os.path.dirname(os.path.abspath(__file__))

def _read(name, lines=False):
	with open(os.path.join(_dir, name)) as f:
		text = [l.strip() for l in f
			if l.strip() and (not l.lstrip().startswith('#') or
					  l.strip().endswith(' is not set'))]
	return text if lines else ' '.join(text)

_params = _read('x86_64.qemu-args', lines=True)
_cmdline = _read('x86_64.cmdline')
_profile = os.environ.get('PHYR_MAP_PROFILE', 'iommu')
if _profile in ('noiommu', 'swiotlb'):
	_cmdline = _cmdline.replace('intel_iommu=on', 'intel_iommu=off')
if _profile == 'swiotlb':
	_cmdline += ' swiotlb=force'
elif _profile not in ('iommu', 'noiommu'):
	raise ValueError('PHYR_MAP_PROFILE: unknown profile ' + _profile)
_bench = os.environ.get('PHYR_MAP_BENCH_MB')
if _bench:
	_cmdline += ' phyr_map_kunit.bench_mb=' + str(int(_bench))
	# 1 GiB of 2 MiB folios after 1 GiB of 4 KiB pages needs more than the
	# machine's 2 GiB; the last -m wins
	_params += ['-m', '4096']
_initrd = os.environ.get('PHYR_KUNIT_INITRD')
if _initrd:
	_params += ['-initrd', _initrd]
	_cmdline += ' rdinit=/init --'

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='\n'.join(_read('x86_64.config', lines=True)),
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line=_cmdline,
			   extra_qemu_params=_params)

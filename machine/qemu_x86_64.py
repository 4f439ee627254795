# SPDX-License-Identifier: GPL-2.0
# THE phyr test machine as a kunit.py --qemu_config.  The machine itself is
# defined by the plain files next to this one, shared with mk/selftests.sh:
#   x86_64.qemu-args  QEMU arguments, one per line
#   x86_64.cmdline    kernel command line
#   x86_64.config     Kconfig the machine needs
#
# PHYR_KUNIT_INITRD=<cpio>: boot with that initramfs and let the kernel go
# on to its /init after the built-in KUnit suites (which run from
# kernel_init once all initcalls are done): kunit.py appends
# "kunit_shutdown=reboot" after our command line, so we end the command line
# with "--" and that argument becomes an argument of /init instead of a
# kernel parameter.  /init then scans kmemleak and powers off.
#
# PHYR_MAP_PROFILE picks a profile of mk/phyr_map.sh:
#   iommu    the machine as defined (the default): Intel IOMMU on
#   noiommu  intel_iommu=off: dma-direct, real P2P DMA
#   swiotlb  intel_iommu=off swiotlb=force: bouncing
#   amd      the AMD IOMMU (-device amd-iommu) in place of the Intel one,
#            with 5 GiB of RAM, so that swiotlb exists for untrusted
#            devices to bounce through
#   fq       the Intel IOMMU with the flush queue: iommu.strict=0, and no
#            caching-mode, under which the VT-d driver forces strict
#            invalidation (so does the AMD one, for QEMU's NpCache)
# noiommu and amd have 5 GiB of RAM: memory above 4 GiB, and swiotlb, for
# a device with a 32-bit DMA mask (the tests set the edu's).
# PHYR_MAP_BENCH_MB=<n> also runs the phyr_map_bench suite on n MiB lists,
# with 4 GiB of RAM.
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
_bench = os.environ.get('PHYR_MAP_BENCH_MB')
if _profile in ('noiommu', 'swiotlb'):
	_cmdline = _cmdline.replace('intel_iommu=on', 'intel_iommu=off')
if _profile == 'swiotlb':
	_cmdline += ' swiotlb=force'
elif _profile == 'amd':
	_i = _params.index('intel-iommu,intremap=on,caching-mode=on')
	_params[_i] = 'amd-iommu,intremap=on'
	# QEMU 7.2's AMD IOMMU translates DMA only for devices on the root
	# bus: behind a bridge the NVMe's own admin commands time out.  So
	# the edu the tests DMA through moves there (the test suite takes
	# an edu on the root bus for the one behind the switch); the P2P
	# cases skip, for the CMB is not registered.
	_i = _params.index('edu,id=edu0,bus=dn0,dma_mask=0xffffffffffffffff')
	_params[_i] = 'edu,id=edu0,bus=pcie.0,addr=0x6,dma_mask=0xffffffffffffffff'
elif _profile == 'fq':
	_i = _params.index('intel-iommu,intremap=on,caching-mode=on')
	_params[_i] = 'intel-iommu,intremap=on'
	_cmdline = _cmdline.replace('iommu.strict=1', 'iommu.strict=0')
elif _profile not in ('iommu', 'noiommu'):
	raise ValueError('PHYR_MAP_PROFILE: unknown profile ' + _profile)
if _profile in ('noiommu', 'amd') and not _bench:
	_params += ['-m', '5120']
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

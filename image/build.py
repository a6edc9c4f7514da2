"""``make image``: the build as a list of named steps, from the base distro to the hybrid ISO.

The first line printed says which base is built and why (``DISTRO=auto`` resolves to Fedora
when its mirror answers, Debian otherwise). Caches (debootstrap, apt archives, wheels, the demo
guest) live under the cache directory, so a rebuild skips every download.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from appliance import __version__
from image import dib, iso, manifest, rootfs
from image.demo import build_demo_disk
from image.distro import Choice, choose
from image.options import BuildOptions, check_host_tools, check_output_dir, check_seed
from image.steps import StepLog, StepRunner
from image.wheels import build_wheelhouse

STEP_COUNT = 9


@dataclass(frozen=True)
class BuildResult:
    choice: Choice
    outputs: manifest.Outputs
    timings: dict[str, float]


def iso_name(choice: Choice) -> str:
    return f"virtstick-{__version__}-{choice.plan.name.value}-x86_64.iso"


def build(options: BuildOptions, *, out: TextIO) -> BuildResult:
    """Check everything that can be checked up front, then run the steps."""
    check_output_dir(options.output_dir)
    if options.seed is not None:
        check_seed(options.seed)
    choice = choose(options.distro, options.sources)
    out.write(f"VirtStick image: building {choice.plan.title} ({choice.reason})\n")
    out.flush()
    check_host_tools(choice.plan, tool_path=options.tool_path)
    runner = StepRunner(log_dir=options.log_dir, out=out, total=STEP_COUNT)
    outputs = _run_steps(runner, options, choice)
    out.write(
        f"VirtStick image: {outputs.iso} ({outputs.size_bytes / 1e6:.0f} MB), "
        f"{outputs.checksum.name}, {outputs.manifest.name}\n"
    )
    return BuildResult(choice=choice, outputs=outputs, timings=dict(runner.timings))


def _run_steps(runner: StepRunner, options: BuildOptions, choice: Choice) -> manifest.Outputs:
    work = options.work_dir
    tree = work / "iso-tree"

    def clean(log: StepLog) -> None:
        if work.exists():
            log.run(["rm", "-rf", "--one-file-system", work])
        tree.mkdir(parents=True)

    runner.step("prepare the work directory", clean)
    wheelhouse = options.cache_dir / "wheels"
    runner.step(
        "build the appliance wheels",
        lambda log: build_wheelhouse(log, project_dir=options.project_dir, wheelhouse=wheelhouse),
    )
    demo_disk: Path | None = None
    if options.demo:
        demo_disk = runner.step(
            "build the demo guest",
            lambda log: build_demo_disk(log, cache_dir=options.cache_dir / "demoguest"),
        )
    else:
        runner.total -= 1
    inputs = dib.DibInputs(
        plan=choice.plan,
        elements_dir=options.elements_dir,
        image_cache=options.cache_dir / "dib",
        wheelhouse=wheelhouse,
        seed=options.seed,
        demo_disk=demo_disk,
    )
    tar = runner.step(
        "build the root file system (diskimage-builder)",
        lambda log: dib.build_root_tar(log, inputs, work_dir=work),
    )
    boot = runner.step(
        "extract the kernel, initramfs and EFI binaries",
        lambda log: rootfs.extract_boot_files(log, tar=tar, dest=work / "boot-files"),
    )
    runner.step(
        "compress the root into a squashfs (zstd)",
        lambda log: rootfs.make_squashfs(
            log, tar=tar, out=tree / iso.SQUASHFS, work_dir=work
        ),
    )

    def boot_images(log: StepLog) -> Path:
        info = f"VirtStick {__version__} {choice.plan.title}"
        iso.prepare_tree(tree, boot=boot, volume_id=options.volume_id, info=info)
        iso.make_bios_image(log, tree=tree, plan=choice.plan, work_dir=work)
        return iso.make_efi_image(log, boot=boot, out=work / "efi.img")

    efi_image = runner.step("make the BIOS and UEFI boot images", boot_images)
    target = options.output_dir / iso_name(choice)
    runner.step(
        "assemble the hybrid ISO",
        lambda log: iso.write_iso(
            log,
            tree=tree,
            efi_image=efi_image,
            plan=choice.plan,
            volume_id=options.volume_id,
            out=target,
        ),
    )
    outputs = runner.step(
        "write the checksum and the manifest",
        lambda log: manifest.write_outputs(
            iso=target,
            choice=choice,
            boot=boot,
            demo=demo_disk is not None,
            seed_baked=options.seed is not None,
        ),
    )
    if not options.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return outputs

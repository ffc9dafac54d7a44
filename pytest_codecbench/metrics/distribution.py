"""FID and KID: how far the set of decoded images is from the set of originals, per (codec, quality).

Protocol (HiFiC, Mentzer et al. 2020, "FID/256"; MS-ILLM's ``update_patch_fid`` in facebookresearch/
NeuralCompression does the same): each image is cut into the grid of whole 256×256 patches from its
top-left corner, then, if it is at least 384 pixels in both directions, into a second grid shifted
by 128 pixels in both; a Kodak image gives 6 + 2 patches. Each patch of the original and of the
decoded image goes through torch-fidelity's Inception-v3 (``inception-v3-compat``, the 2015-12-05
TensorFlow weights that pytorch-fid and clean-fid also use; torch-fidelity resizes each patch to
299×299 as TensorFlow did) and its 2048 pool features are kept.

Every item keeps its own patches' features (``item_features``, stored with its record), so the
controller (``section``) or the report (``aggregate``) computes the set metrics from whatever items
a run, its xdist workers, its shards or an earlier run (``--resume``) measured.

FID: torch-fidelity's ``fid_features_to_statistics`` and ``fid_statistics_to_metric``, or, up to
GRAM_LIMIT patches, the same quantity computed exactly (see ``fid``). KID: torch-fidelity's
polynomial kernel and ``mmd2`` over 100 subsets of min(1000, patches) pairs (its defaults and seed;
with fewer patches every subset is the whole set, so ``kid_std`` is 0), with one change: a patch and
its reconstruction are drawn together and the U-statistic leaves out their cross term.
torch-fidelity's ``kid_features_to_metric`` draws the two subsets independently and keeps k(x_i, y_i),
the kernel of a patch with its own reconstruction, larger than between different patches: that biases
KID downwards by an amount that falls as 1/n (a lossless codec scores below 0), which matters on the
few hundred patches of Kodak. Paired, a set against itself gives 0 exactly.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

import numpy as np

from ..kits.weights import Checkpoint, WeightsUnavailable
from . import Column, Metric, WeightsMissing, distributions
from .references import ReferenceCache

PATCH = 256
PROTOCOL = (
    "FID/256 and KID/256 (HiFiC): 256×256 patches of every image, a grid from the top-left corner plus one shifted "
    "by 128 pixels (images of at least 384×384), Inception-v3 pool features (torch-fidelity, 2048); KID: paired "
    "U-statistic, polynomial kernel, 100 subsets of min(1000, patches)"
)
FEATURES = "inception-v3-compat-2048-patch256"  # the feature space items store, in their record's "set_features"
# torch-fidelity's URL_INCEPTION_V3 (tests check they agree): the file lands in torch.hub's cache, where
# torch-fidelity itself looks
INCEPTION = Checkpoint(
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
KID_SUBSETS, KID_SUBSET_SIZE, KID_SEED = 100, 1000, 2020  # torch-fidelity's defaults
BATCH = 16  # patches per Inception forward pass


def patches(image: np.ndarray) -> np.ndarray:
    """The image's patches under the protocol, N×3×256×256 uint8."""
    grids = [image]
    if min(image.shape[:2]) >= PATCH + PATCH // 2:
        grids.append(image[PATCH // 2 :, PATCH // 2 :])
    out = []
    for grid in grids:
        rows, cols = grid.shape[0] // PATCH, grid.shape[1] // PATCH
        tiles = grid[: rows * PATCH, : cols * PATCH].reshape(rows, PATCH, cols, PATCH, 3)
        out.append(tiles.transpose(0, 2, 4, 1, 3).reshape(-1, 3, PATCH, PATCH))
    return np.ascontiguousarray(np.concatenate(out))


def _check() -> None:
    try:
        INCEPTION.ensure()
    except WeightsUnavailable as error:
        raise WeightsMissing(f"its columns are left out: Inception-v3 {error}") from error


def _fidelity(module: str):
    """A module of torch-fidelity, whose package imports torchvision (see kits/torch_compat.py): also in the
    xdist controller and the report, which import nothing of torch's otherwise."""
    from ..kits.torch_compat import import_quietly, import_torchvision

    import_torchvision()
    return import_quietly(f"torch_fidelity.{module}")


@cache
def _extractor(device: str):
    FeatureExtractorInceptionV3 = _fidelity("feature_extractor_inceptionv3").FeatureExtractorInceptionV3  # noqa: N806

    # the file has passed torch.load(weights_only=True) (Checkpoint.status), so torch-fidelity's own
    # torch.load of it unpickles tensors and plain types only
    path = INCEPTION.ensure()
    return FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)).to(
        device
    )


def features(image: np.ndarray) -> np.ndarray:
    """Inception pool features of the image's patches, N×2048 float32 (N = 0 for an image under 256²)."""
    import torch

    from ..runtime import RUNTIME

    tiles = patches(image)
    if not len(tiles):
        return np.zeros((0, 2048), np.float32)
    model = _extractor(RUNTIME.device)
    with torch.no_grad():
        batches = [
            model(torch.from_numpy(tiles[i : i + BATCH]).to(RUNTIME.device))[0] for i in range(0, len(tiles), BATCH)
        ]
    return torch.cat(batches).float().cpu().numpy()


def encode(array: np.ndarray) -> str:
    """Features as JSON text: base64 of little-endian float32, exact."""
    return base64.b64encode(np.ascontiguousarray(array, "<f4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4").reshape(-1, 2048)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


_references = ReferenceCache(size=256)  # features are small (8 kB a patch): every image of a sweep


def item_features(reference: np.ndarray, decoded: np.ndarray) -> dict:
    """What an item stores for the set metrics: its patches' features, original and decoded."""
    ours = features(decoded)  # as many patches as the original's: the same shape
    return {
        "patches": len(ours),
        "reference": _references.get(reference, lambda image: encode(features(image))),
        "decoded": encode(ours),
    }


GRAM_LIMIT = 4096  # patches per set up to which FID's trace term comes from the n×m cross-Gram matrix


def fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance of the two sets' Gaussians. Above GRAM_LIMIT patches, torch-fidelity's own
    functions. Below, written here: with fewer patches than the 2048 feature dimensions both covariances
    are singular, and torch-fidelity's square root of the eigenvalues of Σ1·Σ2 (2048×2048) picks up
    about 1e-5 of rounding from the eigenvalues that should be 0 (a set against itself: -4e-5 on 16
    patches). tr√(Σ1·Σ2) is the sum of the singular values of A1ᵀ·A2 / √((n1-1)(n2-1)), A the centred
    features: the same quantity from an n1×n2 matrix, exact (tests check both agree where both are exact)."""
    if max(len(real), len(fake)) > GRAM_LIMIT:
        import torch

        library = _fidelity("metric_fid")
        statistics = [library.fid_features_to_statistics(torch.from_numpy(np.asarray(f))) for f in (real, fake)]
        return library.fid_statistics_to_metric(*statistics, verbose=False)["frechet_inception_distance"]
    # the means as torch-fidelity, pytorch-fid and clean-fid take them: of the float32 features, in float32
    difference = np.mean(real, axis=0) - np.mean(fake, axis=0)
    a, b = (np.asarray(f, np.float64) for f in (real, fake))  # the covariances in float64, as np.cov
    a, b = a - a.mean(0), b - b.mean(0)
    scale = np.sqrt((len(a) - 1) * (len(b) - 1))
    cross = np.linalg.svd(a @ b.T, compute_uv=False).sum() / scale
    traces = np.sum(a * a) / (len(a) - 1) + np.sum(b * b) / (len(b) - 1)
    return float(difference.dot(difference) + traces - 2 * cross)


def kid(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation over subsets of paired patches (see the module's docstring)."""
    library = _fidelity("metric_kid")
    size = min(KID_SUBSET_SIZE, len(real))
    rng = np.random.RandomState(KID_SEED)
    options = {"kid_kernel_poly_degree": 3, "kid_kernel_poly_gamma": None, "kid_kernel_poly_coef0": 1}
    values = []
    for _ in range(KID_SUBSETS):
        pick = rng.choice(len(real), size, replace=False)
        x, y = real[pick].astype(np.float64), fake[pick].astype(np.float64)
        kernels = [library.kernel_poly(a, b, **options) for a, b in ((x, x), (x, y), (y, y))]
        values.append(library.mmd2(*kernels, mmd_est="u-statistic"))
    return float(np.mean(values)), float(np.std(values))


def kid_unpaired(real: np.ndarray, fake: np.ndarray) -> float:
    """KID as torch-fidelity computes it (``kid_features_to_metric``: its defaults, subsets of min(1000,
    patches)), as torchmetrics and clean-fid do too: what published KIDs are, beside the paired ``kid``."""
    import torch

    size = min(KID_SUBSET_SIZE, len(real))
    library = _fidelity("metric_kid")
    tensors = (torch.from_numpy(np.ascontiguousarray(f)) for f in (real, fake))
    return library.kid_features_to_metric(*tensors, kid_subset_size=size, verbose=False)[library.KEY_METRIC_KID_MEAN]


def columns(names) -> list[str]:
    """The values ``aggregate`` gives for the set metrics ``names``."""
    return ["set_patches", *(["fid"] if "fid" in names else []), *(KID_COLUMNS if "kid" in names else [])]


def aggregate(stored: list[dict], names, references: dict[str, str] | None = None) -> dict[str, float | int]:
    """The set metrics of ``names`` ("fid", "kid"; KID with its spread) over the items' patches, and their
    count. ``stored``: the items' ``set_features``, each with its original's features inline
    (``reference``) or by digest (``reference_sha256``, looked up in ``references``, as the JSON keeps them)."""
    real, fake = [], []
    for entry in stored:
        text = entry.get("reference") or (references or {}).get(entry.get("reference_sha256"))
        if text is None:
            raise ValueError(f"the original's features {entry.get('reference_sha256')} are not in the report")
        real.append(decode(text))
        fake.append(decode(entry["decoded"]))
    real, fake = np.concatenate(real), np.concatenate(fake)
    if len(real) < 2:
        raise ValueError(f"{len(real)} patches of 256×256: FID and KID need at least two")
    values: dict[str, float | int] = {"set_patches": len(real)}
    if "fid" in names:
        values["fid"] = fid(real, fake)
    if "kid" in names:
        values["kid"], values["kid_std"] = kid(real, fake)
        values["kid_unpaired"] = kid_unpaired(real, fake)
    return values


def section(benchmarks: list[dict], names) -> dict:
    """The JSON's ``sets`` section: each original's features once (``references``, by digest; the items
    keep the digest) and the set metrics of every (codec, quality) over its items."""
    references, points = {}, {}
    for bench in benchmarks:
        stored = bench["extra_info"].get("set_features")
        if not stored:
            continue
        if "reference" in stored:  # new dicts: the records this entry came from keep their features
            key = digest(stored["reference"])
            references[key] = stored["reference"]
            stored = {k: v for k, v in stored.items() if k != "reference"} | {"reference_sha256": key}
            bench["extra_info"] = bench["extra_info"] | {"set_features": stored}
        points.setdefault((bench["params"]["codec"], bench["params"]["quality"]), []).append(stored)
    sets = []
    for (codec, quality), stored in points.items():
        point = {"codec": codec, "quality": quality, "images": len(stored)}
        try:
            sets.append(point | aggregate(stored, names, references))
        except Exception as error:  # noqa: BLE001 - the JSON with every measured item is written regardless
            sets.append(point | {"error": f"{type(error).__name__}: {error}"})
    return {"protocol": PROTOCOL, "features": FEATURES, "references": references, "points": sets}


def _no_columns(reference: np.ndarray, decoded: np.ndarray) -> dict:
    return {}  # computed over the set of items (aggregate), not per item


KID_COLUMNS = ["kid", "kid_std", "kid_unpaired"]
COLUMNS = {  # per metric: its columns of the JSON and the report (kid_std and set_patches are only in rd.csv)
    "fid": {
        "fid": Column("FID/256 (Inception-v3, 256² patches; lower is better)", higher_is_better=False, bd_rate=False)
    },
    "kid": {
        "kid": Column("KID/256 (paired U-statistic; lower is better)", higher_is_better=False, bd_rate=False),
        "kid_unpaired": Column(
            "KID/256 as torch-fidelity computes it (unpaired; lower is better)", higher_is_better=False, bd_rate=False
        ),
    },
}
SET_COLUMNS = {column for table in COLUMNS.values() for column in table}  # none of them has a value per item

METRICS = [
    Metric(
        name,
        COLUMNS[name],
        _no_columns,
        default=False,
        check=_check,
        # measured: 160 MiB at 0.4 MP, 450 at 2 MP, 390 at 12 MP (Inception on 16 patches at a time)
        tiled_above=1,
        tiled_bytes=480 * 2**20,
        tiled_bytes_per_pixel=12,  # both images' patches
        torch=True,
        set_features=item_features,
        weights=(INCEPTION,),
        versions=distributions("torch-fidelity"),
    )
    for name in ("fid", "kid")
]

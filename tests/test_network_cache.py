"""The network cache never executes data, is checked before use, covers every file of a
layer, rebuilds damaged entries with a notice, and keeps its folder small (issue 15)."""

from __future__ import annotations

import logging
import os
import pickle
import random
import time
from pathlib import Path

import geopandas as gpd
import pytest

from networks import Network, NetworkConfig, load_network
from networks import cache as nc
from networks.loading import cache_key

DATA = Path(__file__).parent / "data"
CONFIG = NetworkConfig(road=str(DATA / "toy_road.geojson"), rail=str(DATA / "toy_rail.geojson"),
                       places=(str(DATA / "toy_places.csv"),))  # fmt: skip


def fingerprint(net: Network) -> tuple:
    """Everything a network holds, orders included, comparable with ==."""
    graphs = []
    for mode, G in net.graphs.items():
        edges = [(u, v, [(k, x.wkb_hex if k == "geometry" else repr(x)) for k, x in d.items()])
                 for u, v, d in G.edges(data=True)]  # fmt: skip
        graphs.append((mode, repr(G.graph), list(G.nodes(data=True)),
                       [list(G.adj[n]) for n in G], edges))  # fmt: skip
    return (graphs, repr(net.places), repr(net.links), repr(net.sources))


class _Boom:
    """Unpickling this runs code: it would create the file ``ran``."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (Path.write_text, (self.target, "ran"))


def test_a_pickle_planted_at_the_cache_path_is_never_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue: a file planted at the cache path (computable from public inputs) ran
    arbitrary code. Planted as the old entry (.pickle) and as the new one."""
    key = cache_key(CONFIG)
    ran = tmp_path / "ran"
    bomb = pickle.dumps(_Boom(ran))
    (tmp_path / f"{key[:32]}.pickle").write_bytes(bomb)
    nc.entry_path(tmp_path, key).write_bytes(bomb)
    with caplog.at_level(logging.WARNING, logger="networks.loading"):
        net = load_network(CONFIG, cache_dir=tmp_path)
    assert not ran.exists()
    assert fingerprint(net) == fingerprint(load_network(CONFIG, use_cache=False))
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and "cannot be used" in notices[0] and "rebuilding" in notices[0]
    assert "\n" not in notices[0]
    assert not (tmp_path / f"{key[:32]}.pickle").exists()  # the old format is evicted
    assert not ran.exists()


def test_the_cached_network_is_the_built_one_down_to_every_order(tmp_path: Path) -> None:
    built = load_network(CONFIG, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [nc.entry_path(tmp_path,
                                                                  cache_key(CONFIG)).name]
    cached = load_network(CONFIG, cache_dir=tmp_path)
    assert cached is not built and fingerprint(cached) == fingerprint(built)


def test_every_single_bit_flip_is_caught(tmp_path: Path) -> None:
    """The issue: single-bit flips loaded silently as another network (a null capacity
    became 8.99e307). Every bit of the magic line and the header, and bits at 400 random
    places of the payload: each flip is refused."""
    key = cache_key(CONFIG)
    load_network(CONFIG, cache_dir=tmp_path)
    path = nc.entry_path(tmp_path, key)
    good = path.read_bytes()
    header_end = good.index(b"\n", len(nc.MAGIC)) + 1
    rng = random.Random(15)
    bits = list(range(header_end * 8))
    bits += rng.sample(range(header_end * 8, len(good) * 8), 400)
    for bit in bits:
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(bad))
        with pytest.raises(nc.CacheDamaged):
            nc.read_entry(path, key)
    path.write_bytes(good[:-1])  # truncated
    with pytest.raises(nc.CacheDamaged):
        nc.read_entry(path, key)
    path.write_bytes(good)
    nc.read_entry(path, key)
    with pytest.raises(nc.CacheDamaged):  # the entry of another network
        nc.read_entry(path, "0" * 64)


def test_a_damaged_entry_is_rebuilt_with_a_one_line_notice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = cache_key(CONFIG)
    built = load_network(CONFIG, cache_dir=tmp_path)
    path = nc.entry_path(tmp_path, key)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="networks.loading"):
        again = load_network(CONFIG, cache_dir=tmp_path)
    assert [r.getMessage().count("\n") for r in caplog.records] == [0]
    assert "checksum mismatch" in caplog.records[0].getMessage()
    assert fingerprint(again) == fingerprint(built)
    nc.read_entry(path, key)  # rewritten whole


def _shapefile(folder: Path, capacity: float) -> Path:
    roads = gpd.read_file(DATA / "toy_road.geojson")
    roads["capacity_t"] = capacity
    path = folder / "road.shp"
    roads.to_file(path, driver="ESRI Shapefile", encoding="UTF-8")
    return path


def test_every_file_of_a_shapefile_is_in_the_key(tmp_path: Path) -> None:
    """The issue: editing a Shapefile's .dbf (or .shx, .prj) gave a stale network."""
    shp = _shapefile(tmp_path, 1000.0)
    config = NetworkConfig(road=str(shp), rail=CONFIG.rail, places=CONFIG.places)
    parts = {p.suffix for p in nc.layer_files(shp)}
    assert {".shp", ".shx", ".dbf", ".prj", ".cpg"} <= parts
    first = load_network(config, cache_dir=tmp_path / "c")
    caps = {d["capacity_t"] for _, _, d in first.graphs["road"].edges(data=True)}
    assert caps == {1000.0}
    keys = {cache_key(config)}
    for suffix in (".prj", ".cpg", ".shx"):
        f = shp.with_suffix(suffix)
        f.write_bytes(f.read_bytes() + b" ")
        keys.add(cache_key(config))
    assert len(keys) == 4
    # a new capacity, written into the .dbf only (the .shp keeps its bytes)
    shp_bytes = shp.read_bytes()
    (tmp_path / "b").mkdir()
    other = _shapefile(tmp_path / "b", 2000.0)
    shp.with_suffix(".dbf").write_bytes(other.with_suffix(".dbf").read_bytes())
    assert shp.read_bytes() == shp_bytes
    second = load_network(config, cache_dir=tmp_path / "c")
    caps = {d["capacity_t"] for _, _, d in second.graphs["road"].edges(data=True)}
    assert caps == {2000.0}


def test_every_file_of_a_gdb_folder_is_in_the_key(tmp_path: Path) -> None:
    gdb = tmp_path / "net.gdb"
    roads = gpd.read_file(DATA / "toy_road.geojson")
    roads.to_file(gdb, driver="OpenFileGDB", layer="road")
    config = NetworkConfig(road=str(gdb), rail=CONFIG.rail, places=CONFIG.places)
    files = nc.layer_files(gdb)
    assert len(files) > 3 and all(f.is_relative_to(gdb) for f in files)
    before = cache_key(config)
    victim = max(files, key=lambda f: f.stat().st_size)
    victim.write_bytes(victim.read_bytes() + b"\0")
    assert cache_key(config) != before
    net = load_network(config, cache_dir=tmp_path / "c")  # a .gdb layer is read and built
    assert net.graphs["road"].number_of_edges() > 0


def test_old_entries_are_evicted_and_nothing_else(tmp_path: Path) -> None:
    net = load_network(CONFIG, use_cache=False)
    now = time.time()
    names = []
    for i in range(nc.MAX_ENTRIES + 3):
        key = f"{i:032x}" + "0" * 32
        path = nc.entry_path(tmp_path, key)
        nc.write_entry(path, key, net)
        os.utime(path, (now - 1000 + i, now - 1000 + i))
        names.append(path.name)
    (tmp_path / ("a" * 32 + ".pickle")).write_bytes(b"old format")
    old_tmp = tmp_path / "tmpabc.tmp"
    old_tmp.write_bytes(b"")
    os.utime(old_tmp, (now - 7200, now - 7200))
    new_tmp = tmp_path / "tmpnew.tmp"  # a writer at work: kept
    new_tmp.write_bytes(b"")
    (tmp_path / "notes.txt").write_text("mine")
    gone = nc.evict(tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(names[-nc.MAX_ENTRIES:] + ["tmpnew.tmp", "notes.txt"])
    assert len(gone) == 3 + 2
    nc.touch(tmp_path / names[3])  # read just now: the most recently used
    assert names[3] not in nc.evict(tmp_path, keep=1)

"""Target rigs: a joint hierarchy with its rest pose and a map from HumanBodyBones names.

Loaded from a VRM (0.x: ``extensions.VRM.humanoid``; 1.0: ``extensions.VRMC_vrm.humanoid``),
a glTF/GLB with a bone-name map (a TOML file of ``HumanBodyBones = "node name"`` lines, see
``rigs/``), or a BVH skeleton (joints recognised by the usual naming conventions).

A rig's skeleton is in world metres: each joint's rest offset is its position relative to its
parent joint in the parent's rest frame, and each joint has a rest local rotation (glTF rigs
have non-identity ones; BVH rigs identity). Node scales are folded into the offsets. The
joints are the humanoid-mapped nodes and every node between them, rooted at the hips.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError
from mocap.core.skeleton import ALL_BONES, BONE_NAMES, Skeleton
from mocap.formats.bvh import BvhClip, read_bvh
from mocap.formats.toml_files import read_toml

ASSUMED_HEIGHT_M = 1.7  # a BVH in unknown units is scaled to this standing height


@dataclass(frozen=True)
class Rig:
    """A target rig: its joints (rooted at the hips, with their rest pose) and which joint each
    HumanBodyBones bone is."""

    name: str
    skeleton: Skeleton
    humanoid: dict[str, int]                 # HumanBodyBones name -> joint index
    expressions: tuple[str, ...] = ()        # a VRM's expression (blend shape group) names; none for other rigs


# VRM 1.0 names the thumb's bones metacarpal, proximal, distal; Unity (and VRM 0.x) proximal,
# intermediate, distal.
_VRM1_THUMB = {"ThumbMetacarpal": "ThumbProximal", "ThumbProximal": "ThumbIntermediate"}


def _humanoid_name(vrm_name: str, *, vrm1: bool = False) -> str:
    """VRM's lowerCamel bone names -> Unity HumanBodyBones ("leftUpperArm" -> "LeftUpperArm";
    VRM 1.0's "leftThumbMetacarpal" -> "LeftThumbProximal")."""
    name = vrm_name[:1].upper() + vrm_name[1:]
    if vrm1:
        for vrm1_part, unity_part in _VRM1_THUMB.items():
            if name.endswith(vrm1_part):
                return name.removesuffix(vrm1_part) + unity_part
    return name


def _rig_from_world(
    name: str, node_names: list[str], node_parents: list[int], world: list[NDArray[np.float64]], humanoid_nodes: dict[str, int]
) -> Rig:
    """The spanning tree of the humanoid nodes, rooted at the hips, from 4x4 world matrices."""
    if "Hips" not in humanoid_nodes:
        raise MocapError(f"rig {name}: no Hips bone in its humanoid map")
    hips = humanoid_nodes["Hips"]
    keep = {hips}
    for node in humanoid_nodes.values():
        path = []
        while node != -1 and node != hips:
            path.append(node)
            node = node_parents[node]
        if node == hips:
            keep.update(path)
    order: list[int] = []

    def visit(node: int) -> None:
        order.append(node)
        for child in range(len(node_parents)):
            if node_parents[child] == node and child in keep:
                visit(child)

    visit(hips)
    index = {node: i for i, node in enumerate(order)}
    rotations = []
    for node in order:
        u, _, vt = np.linalg.svd(world[node][:3, :3])   # drop scale: the nearest rotation
        rotations.append(u @ vt)
    offsets = np.zeros((len(order), 3))
    local = []
    parents = []
    for i, node in enumerate(order):
        parent = index.get(node_parents[node], -1) if node != hips else -1
        parents.append(parent)
        if parent < 0:
            offsets[i] = world[node][:3, 3]
            local.append(rotations[i])
        else:
            parent_rotation = rotations[parent]
            offsets[i] = parent_rotation.T @ (world[node][:3, 3] - world[order[parent]][:3, 3])
            local.append(parent_rotation.T @ rotations[i])
    mapped = {bone: index[node] for bone, node in humanoid_nodes.items() if node in index}
    skeleton = Skeleton(tuple(node_names[n] for n in order), tuple(parents), offsets, Rotation.from_matrix(np.stack(local)))
    return Rig(name, skeleton, mapped)


def _gltf_json(path: Path) -> dict:
    data = path.read_bytes()
    if data[:4] == b"glTF":
        length, kind = struct.unpack_from("<I4s", data, 12)
        if kind != b"JSON":
            raise MocapError(f"{path} is not a valid GLB/VRM file: its first chunk is not JSON")
        return json.loads(data[20:20 + length])
    return json.loads(data)


_NODE_FIELDS = {"matrix": 16, "rotation": 4, "scale": 3, "translation": 3}   # numbers each field holds


def _node_matrix(node: dict, number: int, path: Path) -> NDArray[np.float64]:
    """The node's local 4x4 transform; a field that is not the right count of finite numbers
    raises :class:`MocapError`."""
    values = {}
    for key, count in _NODE_FIELDS.items():
        if key in node:
            try:
                values[key] = np.asarray(node[key], dtype=np.float64).reshape(count)
            except (ValueError, TypeError):
                values[key] = np.full(count, np.nan)
            if not np.isfinite(values[key]).all() or (key == "rotation" and not np.linalg.norm(values[key]) > 0):
                raise MocapError(f"rig {path}: node {number} has a malformed '{key}' (expected {count} numbers); "
                                 "export the file again")
    if "matrix" in values:
        matrix = values["matrix"].reshape(4, 4).T   # glTF matrices are column-major
    else:
        matrix = np.eye(4)
        rotation = Rotation.from_quat(values.get("rotation", [0, 0, 0, 1])).as_matrix()
        matrix[:3, :3] = rotation @ np.diag(values.get("scale", [1, 1, 1]))
        matrix[:3, 3] = values.get("translation", [0, 0, 0])
    if not np.linalg.det(matrix[:3, :3]) > 1e-12:
        raise MocapError(f"rig {path}: node {number} is scaled to nothing or mirrored (a zero or negative scale); "
                         "apply its scale in the modelling tool and export again")
    return matrix


def _node_parents(nodes: list[dict], path: Path) -> list[int]:
    """Each node's parent (-1 for a root); children lists that are not a forest of valid node
    indices raise :class:`MocapError`."""
    parents = [-1] * len(nodes)
    for number, node in enumerate(nodes):
        children = node.get("children", [])
        if not isinstance(children, list):
            children = [None]
        for child in children:
            if not isinstance(child, int) or isinstance(child, bool) or not 0 <= child < len(nodes) \
                    or child == number or parents[child] >= 0:
                raise MocapError(f"rig {path}: node {number}'s children are not indices of other nodes, each "
                                 "with one parent; export the file again")
            parents[child] = number
    for number in range(len(nodes)):   # no loops: every chain of parents reaches a root
        ancestor, steps = parents[number], 0
        while ancestor >= 0 and steps <= len(nodes):
            ancestor, steps = parents[ancestor], steps + 1
        if ancestor >= 0:
            raise MocapError(f"rig {path}: its nodes' children form a loop; export the file again")
    return parents


def _vrm_humanoid(extensions: dict, node_count: int, path: Path) -> dict[str, int]:
    """HumanBodyBones name -> node index from a VRM 1.0 or 0.x humanoid extension."""
    try:
        if "VRMC_vrm" in extensions:
            entries = extensions["VRMC_vrm"]["humanoid"]["humanBones"].items()
            humanoid = {_humanoid_name(bone, vrm1=True): entry["node"] for bone, entry in entries}
        else:
            humanoid = {_humanoid_name(entry["bone"]): entry["node"] for entry in extensions["VRM"]["humanoid"]["humanBones"]}
    except (KeyError, TypeError, AttributeError):
        humanoid = {}
    if not humanoid or not all(isinstance(bone, str) and isinstance(node, int) and 0 <= node < node_count
                               for bone, node in humanoid.items()):
        raise MocapError(f"rig {path}: its VRM humanoid is malformed (each human bone needs a node index); "
                         "export the file again")
    return humanoid


@dataclass(frozen=True)
class GltfNodes:
    """A glTF/VRM file's JSON and its node hierarchy at rest."""

    gltf: dict
    names: list[str]
    parents: list[int]                  # -1 for a root
    local: NDArray[np.float64]          # (nodes, 4, 4) each node's own transform
    world: NDArray[np.float64]          # (nodes, 4, 4)


def read_gltf_nodes(path: Path) -> GltfNodes:
    """The nodes of a VRM, GLB or glTF file; a file that is not whole raises :class:`MocapError`."""
    try:
        gltf = _gltf_json(path)
    except (OSError, ValueError, struct.error) as error:
        raise MocapError(f"cannot read rig {path}: not a whole glTF/VRM file ({error}); export it again") from None
    nodes = gltf.get("nodes", []) if isinstance(gltf, dict) else None
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise MocapError(f"rig {path}: its 'nodes' are not a list of nodes; export the file again")
    names = [str(node.get("name", f"node_{i}")) for i, node in enumerate(nodes)]
    parents = _node_parents(nodes, path)
    local = np.stack([_node_matrix(node, i, path) for i, node in enumerate(nodes)]) if nodes else np.zeros((0, 4, 4))
    world = local.copy()
    done = [False] * len(nodes)

    def world_of(i: int) -> NDArray[np.float64]:
        if not done[i]:
            if parents[i] >= 0:
                world[i] = world_of(parents[i]) @ local[i]
            done[i] = True
        return world[i]

    for i in range(len(nodes)):
        world_of(i)
    return GltfNodes(gltf, names, parents, local, world)


def load_gltf_rig(path: Path, bone_map: dict[str, str] | None = None) -> Rig:
    """A VRM (its own humanoid map) or a glTF/GLB with ``bone_map`` (HumanBodyBones -> node name)."""
    read = read_gltf_nodes(path)
    gltf, names, parents, world = read.gltf, read.names, read.parents, list(read.world)
    nodes = gltf["nodes"]
    extensions = gltf.get("extensions", {})
    if bone_map is not None:
        missing = [node for node in bone_map.values() if node not in names]
        if missing:
            raise MocapError(f"rig {path}: the bone map names node '{missing[0]}', which the file does not have")
        humanoid = {bone: names.index(node) for bone, node in bone_map.items()}
    elif isinstance(extensions, dict) and ("VRMC_vrm" in extensions or "VRM" in extensions):
        humanoid = _vrm_humanoid(extensions, len(nodes), path)
    else:
        raise MocapError(
            f"rig {path} has no VRM humanoid: give a bone map with --rig-map (a TOML file of "
            "HumanBodyBones = \"node name\" lines, see rigs/kaykit_mannequin.toml)"
        )
    rig = _rig_from_world(path.stem, names, parents, world, humanoid)
    return replace(rig, expressions=_vrm_expressions(extensions)) if isinstance(extensions, dict) else rig


def _vrm_expressions(extensions: dict) -> tuple[str, ...]:
    """The expression names a VRM declares: VRM 0.x's blend shape groups by their names (the
    presets' are the names VMC sends, ``Blink_L``), VRM 1.0's presets and custom expressions;
    none where the extension is malformed (the expressions are only reported, never needed)."""
    try:
        if "VRMC_vrm" in extensions:
            expressions = extensions["VRMC_vrm"].get("expressions", {})
            return tuple(str(name) for name in (*expressions.get("preset", {}), *expressions.get("custom", {})))
        groups = extensions.get("VRM", {}).get("blendShapeMaster", {}).get("blendShapeGroups", [])
        return tuple(str(group.get("name", "")) for group in groups if isinstance(group, dict))
    except (AttributeError, TypeError):
        return ()


# BVH joint names per HumanBodyBones bone, tried in order ({S}: Left/Right, {s}: L/R, {l}: l/r).
BVH_NAMES: dict[str, tuple[str, ...]] = {
    "Hips": ("Hips", "hip", "pelvis"),
    "Spine": ("Spine", "LowerBack", "lowerback", "Ab", "abdomen", "Chest"),
    "Chest": ("Spine1", "Chest2", "Chest", "chest"),
    "Neck": ("Neck", "neck"),
    "Head": ("Head", "head"),
    "{S}Shoulder": ("{S}Shoulder", "{S}Collar", "Shoulder_{s}", "{l}Collar"),
    "{S}UpperArm": ("{S}Arm", "{S}UpArm", "UpperArm_{s}", "{S}Shoulder", "{l}Shldr"),
    "{S}LowerArm": ("{S}ForeArm", "LowerArm_{s}", "{S}Elbow", "{l}ForeArm"),
    "{S}Hand": ("{S}Hand", "Hand_{s}", "{S}Wrist", "{l}Hand"),
    "{S}UpperLeg": ("{S}UpLeg", "UpperLeg_{s}", "{S}Hip", "{S}Thigh", "{l}Thigh"),
    "{S}LowerLeg": ("{S}Leg", "LowerLeg_{s}", "{S}Knee", "{S}Shin", "{l}Shin"),
    "{S}Foot": ("{S}Foot", "Foot_{s}", "{S}Ankle", "{l}Foot"),
    "{S}Toes": ("{S}ToeBase", "Toes_{s}", "{S}Toe", "{S}Toes", "{l}Toe"),
}


def bvh_humanoid_map(names: list[str]) -> dict[str, str]:
    """HumanBodyBones -> joint name for the naming conventions of CMU (MotionBuilder, 3ds Max and
    DAZ-friendly), Bandai-Namco, Perfume and others.

    A joint is used once: the upper arm is looked for before the shoulder, so a skeleton
    whose upper-arm joint is called "LeftShoulder" keeps it as the upper arm."""
    found: dict[str, str] = {}
    used: set[str] = set()
    order = ["Hips", "Neck", "Head", "{S}UpperArm", "{S}LowerArm", "{S}Hand", "{S}Shoulder",
             "{S}UpperLeg", "{S}LowerLeg", "{S}Foot", "{S}Toes", "Chest", "Spine"]
    for pattern in order:
        for side, short in (("Left", "L"), ("Right", "R")) if "{S}" in pattern else (("", ""),):
            bone = pattern.replace("{S}", side)
            for candidate in BVH_NAMES[pattern]:
                joint = candidate.replace("{S}", side).replace("{s}", short).replace("{l}", short.lower())
                if joint in names and joint not in used:
                    found[bone] = joint
                    used.add(joint)
                    break
    return found


def load_bvh_rig(path: Path) -> Rig:
    """A BVH skeleton as a rig (its OFFSET pose is its rest pose)."""
    return bvh_rig(read_bvh(path), path)


def bvh_rig(clip: BvhClip, path: Path) -> Rig:
    """The skeleton of ``clip``, read from ``path``, as a rig in metres (see :func:`bvh_metres_per_unit`)."""
    names = clip.names
    bone_map = bvh_humanoid_map(names)
    if "Hips" not in bone_map:
        raise MocapError(f"rig {path}: no hips joint recognised (expected a joint named Hips)")
    rest = clip.rest_positions()
    rest *= bvh_metres_per_unit(float(np.ptp(rest[:, 1])))
    world = []
    for position in rest:
        matrix = np.eye(4)
        matrix[:3, 3] = position
        world.append(matrix)
    humanoid = {bone: names.index(joint) for bone, joint in bone_map.items()}
    return _rig_from_world(path.stem, names, [j.parent for j in clip.joints], world, humanoid)


def bvh_metres_per_unit(rest_height: float) -> float:
    """Centimetres or metres when the rest height looks like a person in them; otherwise
    the units that make the skeleton :data:`ASSUMED_HEIGHT_M` tall (CMU's are about 0.06 m)."""
    if 100.0 < rest_height < 250.0:
        return 0.01
    if 1.0 < rest_height < 2.5:
        return 1.0
    return ASSUMED_HEIGHT_M / rest_height


def load_rig(path: Path, bone_map_path: Path | None = None) -> Rig:
    """A rig from a .vrm, .glb, .gltf or .bvh file."""
    if not path.is_file():
        raise MocapError(f"rig file not found: {path} (check the path given to --rig)")
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        rig = load_bvh_rig(path)
    elif suffix in (".vrm", ".glb", ".gltf"):
        bone_map = None
        if bone_map_path is not None:
            table = read_toml(bone_map_path, kind="bone map", option="--rig-map")
            unknown = [bone for bone in table if bone not in ALL_BONES]
            if unknown:
                raise MocapError(f"bone map {bone_map_path}: '{unknown[0]}' is not a HumanBodyBones name this rig uses "
                                 f"({', '.join(BONE_NAMES)}, fingers such as LeftIndexProximal, LeftEye, RightEye)")
            bone_map = {bone: str(node) for bone, node in table.items()}
        rig = load_gltf_rig(path, bone_map)
    else:
        raise MocapError(f"unsupported rig file {path}: use a .vrm, .glb, .gltf (with --rig-map) or .bvh file")
    for needed in ("Hips", "LeftUpperArm", "LeftLowerArm", "RightUpperArm", "RightLowerArm",
                   "LeftUpperLeg", "LeftLowerLeg", "RightUpperLeg", "RightLowerLeg", "Head"):
        if needed not in rig.humanoid:
            raise MocapError(f"rig {path}: no {needed} bone found; give a bone map with --rig-map")
    return rig


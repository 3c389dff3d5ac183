"""An avatar's own mesh (a VRM or glTF/GLB rig) skinned on the CPU with a solved pose.

The file is read with pygltflib: trimesh reads a glTF's meshes but not their skins (joint
indices, weights, inverse bind matrices), which skinning needs. Each vertex goes where the
weighted blend of its joints' skinning matrices (the joint's posed world matrix times its
inverse bind matrix) takes it: linear blend skinning, as glTF specifies and as Blender and
game engines do it, all vertices at once. Each triangle keeps one colour: its material's base
colour times its texture at the triangle's centre (docs/rendering.md).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from mocap.core.errors import MocapError, note
from mocap.core.frames import FaceExpression
from mocap.display.scene_view import SceneView
from mocap.retargeting.retarget import Retargeter
from mocap.retargeting.rigs import GltfNodes, Rig, read_gltf_nodes
from mocap.sinks.expressions import expression_weights

_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NORMALISED_MAX = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}
_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_TRIANGLES = 4   # the primitive mode drawn; points, lines and strips are skipped


@dataclass(frozen=True)
class MeshPart:
    """One drawn primitive of a skinned mesh: bind-pose vertices and what moves them."""

    positions_m: NDArray[np.float64]     # (vertices, 3) bind pose, the file's frame, metres
    triangles: NDArray[np.intp]          # (triangles, 3) vertex indices
    triangle_bgr: NDArray[np.uint8]      # (triangles, 3) each triangle's colour
    double_sided: NDArray[np.bool_]      # (triangles,) its material is seen from both sides
    joints: NDArray[np.intp]             # (vertices, 4) indices into AvatarMesh.skin_nodes
    weights: NDArray[np.float64]         # (vertices, 4) summing to 1
    mesh: int                            # the glTF mesh it belongs to (expressions name meshes)
    morph_deltas_m: NDArray[np.float64]  # (morph targets, vertices, 3) each blend shape's moves, metres


@dataclass(frozen=True)
class AvatarMesh:
    """A rig's skinned meshes and its node hierarchy at rest."""

    parts: tuple[MeshPart, ...]
    node_names: tuple[str, ...]
    node_parents: tuple[int, ...]               # -1 for a root
    rest_local: NDArray[np.float64]             # (nodes, 4, 4)
    rest_world: NDArray[np.float64]             # (nodes, 4, 4)
    skin_nodes: NDArray[np.intp]                # (joints,) the skin's joints as node indices
    inverse_bind: NDArray[np.float64]           # (joints, 4, 4)
    expressions: dict[str, tuple[tuple[int, int, float], ...]]   # lower-case name -> (mesh, morph target, weight 0..1)
    expression_scheme: str = "vrm0"             # the names the file's expressions go by (mocap.sinks.expressions)

    def posed_world(self, rig: Rig, rig_local: Rotation, root_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Every node's world matrix (nodes, 4, 4) in the file's frame with ``rig`` posed by its
        local rotations and root position (as :meth:`Retargeter.retarget` gives them): the rig's
        joints turned from their rest (their scale kept), other nodes carried by their parents,
        nodes above the hips left at rest."""
        rotations, positions = rig.skeleton.forward_kinematics(rig_local, root_m)
        posed_rotation = rotations.as_matrix()
        rig_joint = {name: joint for joint, name in enumerate(rig.skeleton.names)}
        world = self.rest_world.copy()
        for node in self._parents_first:
            joint = rig_joint.get(self.node_names[node])
            if joint is not None:
                world[node, :3, :3] = posed_rotation[joint] @ self._rest_scales[node]
                world[node, :3, 3] = positions[joint]
            elif self.node_parents[node] >= 0:
                world[node] = world[self.node_parents[node]] @ self.rest_local[node]
        return world

    @cached_property
    def _rest_scales(self) -> NDArray[np.float64]:
        """(nodes, 3, 3) each node's rest world matrix less its rotation (the polar factor): its scale."""
        u, _, vt = np.linalg.svd(self.rest_world[:, :3, :3])
        return np.transpose(u @ vt, (0, 2, 1)) @ self.rest_world[:, :3, :3]

    @cached_property
    def _parents_first(self) -> list[int]:
        return _parents_first(self.node_parents)

    def morph_weights(self, expression_weights: dict[str, float]) -> dict[int, NDArray[np.float64]]:
        """Each mesh's morph target weights (0..1) for expressions by name (any case, 0..1), as
        the file's expressions bind them."""
        targets = {part.mesh: len(part.morph_deltas_m) for part in self.parts}
        weights: dict[int, NDArray[np.float64]] = {}
        for name, weight in expression_weights.items():
            for mesh, target, bind_weight in self.expressions.get(name.lower(), ()):
                if target < targets.get(mesh, 0):
                    weights.setdefault(mesh, np.zeros(targets[mesh]))[target] += weight * bind_weight
        return {mesh: np.clip(values, 0.0, 1.0) for mesh, values in weights.items()}

    def skinned(self, node_world: NDArray[np.float64],
                morph_weights: dict[int, NDArray[np.float64]] | None = None) -> list[NDArray[np.float64]]:
        """Each part's vertices (vertices, 3), its blend shapes applied by ``morph_weights`` (per
        mesh, per morph target), then moved by linear blend skinning."""
        skinning = node_world[self.skin_nodes] @ self.inverse_bind           # (joints, 4, 4)
        moved = []
        for part in self.parts:
            positions = part.positions_m
            if morph_weights and part.mesh in morph_weights:
                positions = positions + np.tensordot(morph_weights[part.mesh], part.morph_deltas_m, axes=1)
            blend = np.einsum("vk,vkij->vij", part.weights, skinning[part.joints])
            moved.append(np.einsum("vij,vj->vi", blend[:, :3, :3], positions) + blend[:, :3, 3])
        return moved


class AvatarPoser:
    """Canonical poses onto an avatar's mesh: retargeted onto its rig, its nodes posed, its mesh
    skinned; vertices in mocap's world frame (the avatar facing +Z, its floor at y = 0)."""

    def __init__(self, rig: Rig, mesh: AvatarMesh, *, fingers: bool = False, eyes: bool = False) -> None:
        self.rig = rig
        self.mesh = mesh
        self.retargeter = Retargeter(rig, fingers=fingers, eyes=eyes)
        starts = np.cumsum([0] + [len(part.positions_m) for part in mesh.parts])
        self.triangles = np.concatenate([part.triangles + start for part, start in zip(mesh.parts, starts)])
        self.triangle_bgr = np.concatenate([part.triangle_bgr for part in mesh.parts])
        self.double_sided = np.concatenate([part.double_sided for part in mesh.parts])
        bind_heights = np.concatenate([part.positions_m[:, 1] for part in mesh.parts])
        self.height_m = float(np.ptp(bind_heights))    # as modelled, metres: for framing it

    def vertices(self, canonical_local: Rotation, root_m: NDArray[np.float64], performer_hip_height_m: float,
                 face: FaceExpression | None = None) -> NDArray[np.float64]:
        """Every vertex (vertices, 3; metres) of the mesh in the pose of the canonical humanoid's
        ``canonical_local`` rotations and hips at ``root_m``, scaled by the hip heights as VMC is;
        with ``face``'s expressions on its blend shapes, as a VMC receiver applies them."""
        local, root = self.retargeter.retarget(canonical_local, root_m, performer_hip_height_m)
        morphs = self.mesh.morph_weights(expression_weights(face, self.mesh.expression_scheme)) if face is not None else None
        moved = np.concatenate(self.mesh.skinned(self.mesh.posed_world(self.rig, local, root), morphs))
        return self.retargeter.facing.apply(moved)

    def picture(self, view: SceneView, canonical_local: Rotation, root_m: NDArray[np.float64], performer_hip_height_m: float,
                face: FaceExpression | None, *, path_m: NDArray[np.float64] | None = None,
                planted_m: NDArray[np.float64] | None = None) -> NDArray[np.uint8]:
        """The avatar drawn by ``view`` in this pose (as :meth:`vertices`), with the performer's
        path and planted feet (metres) scaled as the avatar's hips move."""
        scale = np.array([1.0, 0.0, 1.0]) * self.retargeter.hip_height_m / performer_hip_height_m
        return view.mesh(self.vertices(canonical_local, root_m, performer_hip_height_m, face), self.triangles,
                         self.triangle_bgr, self.double_sided, path_m=None if path_m is None else path_m * scale,
                         planted_m=None if planted_m is None else planted_m * scale)


def load_avatar(rig: Rig, path: Path, *, fingers: bool = False, eyes: bool = False) -> AvatarPoser | None:
    """The avatar of a VRM or glTF rig file ready to pose, or None (with a note) when it has no
    skinned mesh to draw (a BVH rig, a skeleton-only glTF)."""
    if path.suffix.lower() == ".bvh":
        return None
    try:
        return AvatarPoser(rig, load_avatar_mesh(path), fingers=fingers, eyes=eyes)
    except MocapError as error:
        note(f"{error}; drawing the skeleton instead")
        return None


def _parents_first(parents: tuple[int, ...]) -> list[int]:
    order: list[int] = []
    placed = [False] * len(parents)

    def place(node: int) -> None:
        if not placed[node]:
            if parents[node] >= 0:
                place(parents[node])
            order.append(node)
            placed[node] = True

    for node in range(len(parents)):
        place(node)
    return order


def _accessor(gltf: object, blob: bytes, index: int) -> NDArray[np.float64]:
    """An accessor's values (count, components); normalised integers scaled to 0..1."""
    accessor = gltf.accessors[index]      # type: ignore[attr-defined]
    if accessor.sparse is not None or accessor.bufferView is None:
        raise ValueError(f"accessor {index} is sparse or has no buffer view")
    view = gltf.bufferViews[accessor.bufferView]      # type: ignore[attr-defined]
    dtype = np.dtype(_COMPONENTS[accessor.componentType]).newbyteorder("<")
    size = _SIZES[accessor.type]
    stride = view.byteStride or dtype.itemsize * size
    start = (view.byteOffset or 0) + (accessor.byteOffset or 0)
    rows = np.lib.stride_tricks.as_strided(
        np.frombuffer(blob, dtype=np.uint8, count=stride * (accessor.count - 1) + dtype.itemsize * size, offset=start),
        shape=(accessor.count, dtype.itemsize * size), strides=(stride, 1))
    values = np.ascontiguousarray(rows).view(dtype).reshape(accessor.count, size).astype(np.float64)
    if accessor.normalized and accessor.componentType in _NORMALISED_MAX:
        values /= _NORMALISED_MAX[accessor.componentType]
    return values


def _texture_images(gltf: object, blob: bytes) -> dict[int, np.ndarray]:
    """Each texture's image (BGR) by texture index, for those embedded in the file."""
    images = {}
    for number, texture in enumerate(gltf.textures or []):       # type: ignore[attr-defined]
        image = gltf.images[texture.source] if texture.source is not None else None     # type: ignore[attr-defined]
        if image is None or image.bufferView is None:
            continue
        view = gltf.bufferViews[image.bufferView]       # type: ignore[attr-defined]
        data = np.frombuffer(blob, dtype=np.uint8, count=view.byteLength, offset=view.byteOffset or 0)
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if decoded is not None:
            images[number] = decoded
    return images


def _triangle_colours(gltf: object, primitive: object, uv: NDArray[np.float64] | None, triangles: NDArray[np.intp],
                      textures: dict[int, np.ndarray]) -> NDArray[np.uint8]:
    """Each triangle's colour (BGR): its material's base colour times its texture at the triangle's centre."""
    factor_rgb = np.ones(3)
    texture = None
    if primitive.material is not None:       # type: ignore[attr-defined]
        pbr = gltf.materials[primitive.material].pbrMetallicRoughness      # type: ignore[attr-defined]
        if pbr is not None:
            factor_rgb = np.asarray((pbr.baseColorFactor or [1.0, 1.0, 1.0, 1.0])[:3], dtype=np.float64)
            if pbr.baseColorTexture is not None:
                texture = textures.get(pbr.baseColorTexture.index)
    colours = np.tile(factor_rgb[::-1] * 255.0, (len(triangles), 1))
    if texture is not None and uv is not None:
        centre = uv[triangles].mean(axis=1) % 1.0
        height, width = texture.shape[:2]
        rows = np.clip((centre[:, 1] * height).astype(int), 0, height - 1)
        columns = np.clip((centre[:, 0] * width).astype(int), 0, width - 1)
        colours = colours * texture[rows, columns] / 255.0
    return np.clip(colours, 0, 255).astype(np.uint8)


def load_avatar_mesh(path: Path) -> AvatarMesh:
    """The skinned meshes of a VRM, GLB or glTF file (its first skin). A file without one, or
    whose mesh cannot be read whole, raises :class:`MocapError`."""
    hierarchy = read_gltf_nodes(path)
    try:
        return _read_avatar_mesh(path, hierarchy)
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, struct.error) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())[:200]
        raise MocapError(f"cannot read the avatar's mesh from {path} ({reason}); export it again") from None


def _read_avatar_mesh(path: Path, hierarchy: GltfNodes) -> AvatarMesh:
    """:func:`load_avatar_mesh` without its error handling: a broken file raises what reading it raised."""
    import pygltflib

    gltf = pygltflib.GLTF2.load_binary(str(path)) if path.suffix.lower() in (".vrm", ".glb") else pygltflib.GLTF2.load(str(path))
    if not gltf.skins or not gltf.buffers:
        raise MocapError(f"{path} has no skinned mesh to draw")
    blob = gltf.binary_blob() if gltf.buffers[0].uri is None else (path.parent / gltf.buffers[0].uri).read_bytes()
    skin = gltf.skins[0]
    skin_nodes = np.array(skin.joints, dtype=np.intp)
    if blob is None or not len(skin_nodes) or skin_nodes.min() < 0 or skin_nodes.max() >= len(hierarchy.names):
        raise ValueError("the skin's joints are not nodes of the file")
    inverse_bind = (_accessor(gltf, blob, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
                    if skin.inverseBindMatrices is not None else np.tile(np.eye(4), (len(skin_nodes), 1, 1)))
    if len(inverse_bind) < len(skin_nodes) or not np.isfinite(inverse_bind).all():
        raise ValueError("the skin's inverse bind matrices are fewer than its joints, or not numbers")
    textures = _texture_images(gltf, blob)
    parts = [part for node in gltf.nodes if node.mesh is not None and node.skin == 0
             for part in _parts(gltf, blob, node.mesh, textures)]
    for part in parts:
        if part.joints.size and (part.joints.min() < 0 or part.joints.max() >= len(skin_nodes)) \
                or part.triangles.size and (part.triangles.min() < 0 or part.triangles.max() >= len(part.positions_m)) \
                or len(part.weights) != len(part.positions_m) or len(part.joints) != len(part.positions_m) \
                or part.morph_deltas_m.shape[1:] != part.positions_m.shape \
                or not all(np.isfinite(values).all() for values in (part.positions_m, part.weights, part.morph_deltas_m)):
            raise ValueError("a mesh's vertices, joints, weights, triangles or blend shapes disagree in count or are not numbers")
    if not parts:
        raise MocapError(f"{path} has no skinned triangles to draw")
    scheme, expressions = _expression_binds(hierarchy.gltf)
    return AvatarMesh(tuple(parts), tuple(hierarchy.names), tuple(hierarchy.parents), hierarchy.local, hierarchy.world,
                      skin_nodes, inverse_bind[:len(skin_nodes)], expressions, scheme)


def _expression_binds(gltf: dict) -> tuple[str, dict[str, tuple[tuple[int, int, float], ...]]]:
    """The scheme of a VRM's expression names and each expression's morph target binds (mesh,
    target, weight 0..1) by lower-case name (VRM 0.x: a group's name and preset; VRM 1.0: its
    preset or custom name); none for other files or a malformed extension."""
    extensions = gltf.get("extensions", {})
    binds: dict[str, tuple[tuple[int, int, float], ...]] = {}
    try:
        if "VRMC_vrm" in extensions:
            expressions = extensions["VRMC_vrm"].get("expressions", {})
            nodes = gltf["nodes"]
            for name, expression in {**expressions.get("preset", {}), **expressions.get("custom", {})}.items():
                binds[name.lower()] = tuple((int(nodes[bind["node"]]["mesh"]), int(bind["index"]), float(bind.get("weight", 1.0)))
                                            for bind in expression.get("morphTargetBinds", []))
            return "vrm1", binds
        for group in extensions.get("VRM", {}).get("blendShapeMaster", {}).get("blendShapeGroups", []):
            group_binds = tuple((int(bind["mesh"]), int(bind["index"]), float(bind.get("weight", 100.0)) / 100.0)
                                for bind in group.get("binds", []))
            for name in (group.get("name"), group.get("presetName")):
                if isinstance(name, str) and name:
                    binds.setdefault(name.lower(), group_binds)
    except (AttributeError, TypeError, KeyError, ValueError, IndexError):
        return "vrm0", {}
    return "vrm0", binds


def _parts(gltf: object, blob: bytes, mesh: int, textures: dict[int, np.ndarray]) -> list[MeshPart]:
    """Mesh ``mesh``'s skinned triangle primitives; those sharing their vertices (one per material,
    as exporters write them) become one part, so each vertex is skinned once."""
    by_vertices: dict[tuple[int, int, int], list[object]] = {}
    for primitive in gltf.meshes[mesh].primitives:      # type: ignore[attr-defined]
        attributes = primitive.attributes
        if (primitive.mode or _TRIANGLES) == _TRIANGLES and attributes.JOINTS_0 is not None and attributes.WEIGHTS_0 is not None:
            by_vertices.setdefault((attributes.POSITION, attributes.JOINTS_0, attributes.WEIGHTS_0), []).append(primitive)
    parts = []
    for (position_accessor, joint_accessor, weight_accessor), primitives in by_vertices.items():
        positions = _accessor(gltf, blob, position_accessor)
        triangles, colours, double_sided = [], [], []
        for primitive in primitives:
            attributes = primitive.attributes      # type: ignore[attr-defined]
            indices = primitive.indices      # type: ignore[attr-defined]
            faces = (_accessor(gltf, blob, indices) if indices is not None
                     else np.arange(len(positions), dtype=np.float64)).astype(np.intp).reshape(-1, 3)
            uv = _accessor(gltf, blob, attributes.TEXCOORD_0) if attributes.TEXCOORD_0 is not None else None
            triangles.append(faces)
            colours.append(_triangle_colours(gltf, primitive, uv, faces, textures))
            material = gltf.materials[primitive.material] if primitive.material is not None else None    # type: ignore[attr-defined]
            double_sided.append(np.full(len(faces), bool(material is not None and material.doubleSided)))
        weights = _accessor(gltf, blob, weight_accessor)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        targets = primitives[0].targets or []      # type: ignore[attr-defined]
        deltas = np.stack([_accessor(gltf, blob, target["POSITION"]) if target.get("POSITION") is not None
                           else np.zeros_like(positions) for target in targets]) if targets else np.zeros((0, *positions.shape))
        parts.append(MeshPart(positions, np.concatenate(triangles), np.concatenate(colours), np.concatenate(double_sided),
                              _accessor(gltf, blob, joint_accessor).astype(np.intp), weights, mesh, deltas))
    return parts

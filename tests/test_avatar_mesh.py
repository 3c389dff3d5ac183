"""The avatar's own mesh skinned with a solved pose, against Blender's skinning of the same file.

The pose is retargeted from the canonical humanoid onto the rig (arms, a raised knee, a turned
spine and head, the hips moved), written into a copy of the file as its nodes' transforms, and
imported with Blender's own glTF importer; Blender's armature modifier then skins the mesh. Our
vertices must lie where Blender puts them.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, import_or_unavailable, shared
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from mocap.core.skeleton import BONE_INDEX, humanoid_skeleton
from mocap.display.avatar_mesh import AvatarMesh, load_avatar_mesh
from mocap.retargeting.retarget import Retargeter
from mocap.retargeting.rigs import Rig, load_rig

POSE_DEG = {"LeftUpperArm": (0.0, 30.0, -60.0), "RightLowerArm": (0.0, 0.0, 100.0), "LeftUpperLeg": (-70.0, 0.0, 0.0),
            "LeftLowerLeg": (80.0, 0.0, 0.0), "Spine": (10.0, 20.0, 0.0), "Head": (0.0, 40.0, 10.0)}
RIGS = [("rigs/vrm/Godette_vrm_v4.vrm", None),
        ("rigs/gltf/kaykit_mannequin/manny_med_mod.gltf", REPO / "rigs" / "kaykit_mannequin.toml")]


def posed_nodes(mesh: AvatarMesh, rig: Rig) -> np.ndarray:
    """Every node's world matrix with the rig in POSE_DEG, hips moved 20 cm left and 10 cm forward."""
    skeleton = humanoid_skeleton()
    quats = Rotation.identity(len(skeleton.names)).as_quat()
    for bone, rotvec in POSE_DEG.items():
        quats[BONE_INDEX[bone]] = Rotation.from_rotvec(np.radians(rotvec)).as_quat()
    root = skeleton.rest_offsets_m[0] + [0.2, 0.0, 0.1]
    local, rig_root = Retargeter(rig).retarget(Rotation.from_quat(quats), root, skeleton.rest_offsets_m[0, 1])
    return mesh.posed_world(rig, local, rig_root)


def write_posed_copy(path: Path, world: np.ndarray, parents: tuple[int, ...], folder: Path) -> Path:
    """A copy of the glTF/VRM file whose nodes hold the posed transforms (``world``, nodes x 4 x 4)."""
    data = path.read_bytes()
    if data[:4] == b"glTF":
        length = struct.unpack_from("<I", data, 12)[0]
        gltf, rest = json.loads(data[20:20 + length]), data[20 + length:]
    else:
        gltf, rest = json.loads(data), b""
        for resource in [*gltf.get("buffers", []), *gltf.get("images", [])]:
            if "uri" in resource:
                shutil.copy(path.parent / resource["uri"], folder / resource["uri"])
    for node_number, node in enumerate(gltf["nodes"]):
        parent = parents[node_number]
        local = (np.linalg.inv(world[parent]) if parent >= 0 else np.eye(4)) @ world[node_number]
        scale = np.linalg.norm(local[:3, :3], axis=0)
        node.pop("matrix", None)
        node.update(translation=local[:3, 3].tolist(), scale=scale.tolist(),
                    rotation=Rotation.from_matrix(local[:3, :3] / scale).as_quat().tolist())
    text = json.dumps(gltf).encode()
    if not rest:
        posed = folder / "posed.gltf"
        posed.write_bytes(text)
        return posed
    text += b" " * (-len(text) % 4)
    posed = folder / "posed.glb"
    posed.write_bytes(struct.pack("<4sII", b"glTF", 2, 20 + len(text) + len(rest))
                      + struct.pack("<I4s", len(text), b"JSON") + text + rest)
    return posed


def blender_skinned_vertices(path: Path, shape_keys: dict[int, float] | None = None) -> np.ndarray:
    """Every vertex of the skinned meshes (those with an armature modifier) as Blender's glTF
    importer and armature modifier place them, in glTF's Y-up axes, metres; with the shape keys
    (the file's morph targets, in order after the basis) set to ``shape_keys`` by target index."""
    bpy = import_or_unavailable("bpy", "Blender as a Python module installs on Python 3.11 only")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(path))
    for obj in bpy.context.scene.objects:
        if obj.type == "MESH" and obj.data.shape_keys is not None:
            for target, value in (shape_keys or {}).items():
                obj.data.shape_keys.key_blocks[target + 1].value = value
    depsgraph = bpy.context.evaluated_depsgraph_get()
    vertices = []
    for obj in bpy.context.scene.objects:
        if obj.type != "MESH" or not any(modifier.type == "ARMATURE" for modifier in obj.modifiers):
            continue   # the importer's bone-shape icosphere
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        vertices.append(np.array([list(obj.matrix_world @ vertex.co) for vertex in mesh.vertices]))
        evaluated.to_mesh_clear()
    blender_z_up = np.concatenate(vertices)
    return np.stack([blender_z_up[:, 0], blender_z_up[:, 2], -blender_z_up[:, 1]], axis=1)


@pytest.mark.parametrize(("rig_file", "bone_map"), RIGS, ids=["Godette VRM", "KayKit glTF"])
def test_skinned_vertices_lie_where_blender_skins_them(tmp_path: Path, rig_file: str, bone_map: Path | None) -> None:
    """Every vertex we skin lies within 0.01 mm of one Blender skins, and every one of Blender's
    within 0.01 mm of ours; the pose moved the mesh (by over 25 cm somewhere), so this is not the rest."""
    path = shared(rig_file)
    mesh, rig = load_avatar_mesh(path), load_rig(path, bone_map)
    world = posed_nodes(mesh, rig)
    ours = np.concatenate(mesh.skinned(world))
    theirs = blender_skinned_vertices(write_posed_copy(path, world, mesh.node_parents, tmp_path))
    ours_to_theirs, _ = cKDTree(theirs).query(ours)
    theirs_to_ours, _ = cKDTree(ours).query(theirs)
    assert ours_to_theirs.max() < 1e-5 and theirs_to_ours.max() < 1e-5, (ours_to_theirs.max(), theirs_to_ours.max())
    moved = np.linalg.norm(ours - np.concatenate([part.positions_m for part in mesh.parts]), axis=1)
    assert moved.max() > 0.25


@pytest.mark.parametrize(("rig_file", "bone_map"), RIGS, ids=["Godette VRM", "KayKit glTF"])
def test_the_rest_pose_gives_the_mesh_back_as_modelled(rig_file: str, bone_map: Path | None) -> None:
    """Posed at its own rest, the rig's skin reproduces the file's vertices; weights sum to 1."""
    path = shared(rig_file)
    mesh, rig = load_avatar_mesh(path), load_rig(path, bone_map)
    world = mesh.posed_world(rig, rig.skeleton.rest_local_rotations(), rig.skeleton.rest_offsets_m[0])
    for part, skinned in zip(mesh.parts, mesh.skinned(world)):
        assert np.abs(skinned - part.positions_m).max() < 1e-6
        assert np.allclose(part.weights.sum(axis=1), 1.0)
        assert part.triangles.max() < len(part.positions_m) and len(part.triangle_bgr) == len(part.triangles)


def test_expressions_move_the_blend_shapes_the_vrm_binds_as_blender_does(tmp_path: Path) -> None:
    """Godette's VRM 0.x Blink (morph targets 3 and 4 at full weight) and half an A (target 5);
    Joy binds two targets at half and a quarter:
    her vertices lie where Blender puts them with those shape keys set, and a blink moves only
    her face (her eyelids, by up to 7 cm over her large eyes), not her body."""
    path = shared("rigs/vrm/Godette_vrm_v4.vrm")
    mesh = load_avatar_mesh(path)
    assert mesh.expression_scheme == "vrm0" and mesh.expressions["blink"] == ((0, 3, 1.0), (0, 4, 1.0))
    morphs = mesh.morph_weights({"Blink": 1.0, "A": 0.5})
    assert set(morphs) == {0} and morphs[0][[3, 4, 5]].tolist() == [1.0, 1.0, 0.5]
    assert mesh.morph_weights({"Joy": 1.0})[0][[9, 10]].tolist() == [0.5, 0.25]     # the group's own bind weights
    rest = mesh.rest_world
    ours = np.concatenate(mesh.skinned(rest, morphs))
    copy = tmp_path / "godette.glb"
    shutil.copy(path, copy)
    theirs = blender_skinned_vertices(copy, {3: 1.0, 4: 1.0, 5: 0.5})
    ours_to_theirs, _ = cKDTree(theirs).query(ours)
    assert ours_to_theirs.max() < 1e-5, ours_to_theirs.max()
    neutral = mesh.skinned(rest)
    blinking = mesh.skinned(rest, mesh.morph_weights({"Blink": 1.0}))
    face_moves = np.linalg.norm(blinking[0] - neutral[0], axis=1)
    assert 0.002 < face_moves.max() < 0.1
    assert all(np.array_equal(moved, still) for moved, still in zip(blinking[1:], neutral[1:]))

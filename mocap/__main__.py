from mocap.cli import run

run()

from mocap.app.cli import run

run()

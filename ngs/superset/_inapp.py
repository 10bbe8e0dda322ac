"""Runs inside the Superset application (a subprocess of `ngs serve`, never imported by the CLI).

One process does what `superset db upgrade`, `superset fab create-admin`, `superset init` and
`superset import-dashboards` would do in four, so a first run pays Superset's ~6 s start-up once:

    SUPERSET_CONFIG_PATH=.superset/superset_config.py NGS_SUPERSET_ADMIN_PASSWORD=... \
        python -m ngs.superset._inapp [--init] [--bundle bundle.zip]

The bundle is imported with Superset's asset importer (what `/api/v1/assets/import/` runs), which
overwrites databases and datasets too; `superset import-dashboards` keeps existing datasets and
databases untouched, so an edited dataset or a new warehouse path would never reach Superset.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from zipfile import ZipFile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--init", action="store_true", help="migrate the metadata DB and sync roles")
    parser.add_argument("--bundle", type=Path, default=None, help="asset ZIP to import")
    args = parser.parse_args(argv)

    import superset
    from flask import g
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.extensions import appbuilder, db, security_manager

        if args.init:
            import flask_migrate

            flask_migrate.upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
            appbuilder.add_permissions(update_perms=True)
            security_manager.sync_role_definitions()
            print("ngs-inapp: metadata DB migrated, roles synced", flush=True)

        password = os.environ["NGS_SUPERSET_ADMIN_PASSWORD"]
        user = security_manager.find_user(username="admin")
        if user is None:
            role = security_manager.find_role("Admin")
            user = security_manager.add_user("admin", "NGS", "Admin", "admin@localhost", role, password=password)
            if not user:
                print("ngs-inapp: could not create the admin user", file=sys.stderr)
                return 1
            print("ngs-inapp: admin user created", flush=True)
        else:
            security_manager.reset_password(user.id, password)
        db.session.commit()

        if args.bundle is not None:
            from superset.commands.importers.v1.assets import ImportAssetsCommand
            from superset.commands.importers.v1.utils import get_contents_from_bundle

            g.user = user
            with ZipFile(args.bundle) as bundle:
                contents = get_contents_from_bundle(bundle)
            try:
                ImportAssetsCommand(contents).run()
            except Exception as exc:  # report the validation messages Superset collected
                detail = exc.normalized_messages() if hasattr(exc, "normalized_messages") else str(exc)
                print(f"ngs-inapp: import failed: {detail}", file=sys.stderr)
                return 1
            print(f"ngs-inapp: imported {args.bundle.name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

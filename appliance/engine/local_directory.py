"""The internal domain from this machine's console: passwords and group members, set on the
service's own store whether the service runs or not (SQLite lets both write). It is what
ovirt-aaa-jdbc-tool is to oVirt's engine machine: users added through the API have no
password until the console gives them one."""

from __future__ import annotations

from appliance.config import Config
from appliance.engine import bootstrap
from appliance.engine.audit import AuditLog
from appliance.engine.authz import CONSOLE
from appliance.engine.context import EngineContext, Hosts, Locks
from appliance.engine.events import EventLog
from appliance.engine.groups import Groups
from appliance.engine.jobs import Jobs
from appliance.engine.roles import Roles
from appliance.engine.store import Database
from appliance.engine.store.schema import Store
from appliance.engine.users import User, Users
from appliance.errors import ConfigError, NotFound


class LocalDirectory:
    def __init__(self, config: Config) -> None:
        path = config.database_path
        if not path.is_file():
            raise ConfigError(f"There is no VirtStick store at {path}: start the service once "
                              "(virtstick serve), or name its configuration with --config.")
        self._db = Database(path)
        store = Store(self._db)
        events = EventLog(self._db)
        self._jobs = Jobs(store.jobs, events, workers=1)
        ctx = EngineContext(config=config, store=store, events=events, jobs=self._jobs,
                            hosts=Hosts(), locks=Locks(),
                            appliance_id=bootstrap.appliance_id(store),
                            audit=AuditLog(self._db, self._jobs))
        self.groups = Groups(ctx)
        self.users = Users(ctx, roles=Roles(ctx), groups=self.groups)

    def set_password(self, name: str, password: str) -> User:
        user = self.user(name)
        self.users.set_password(user.id, password, actor=CONSOLE)
        return user

    def set_member(self, group_name: str, user_name: str, *, member: bool) -> User:
        user = self.user(user_name)
        group = self.groups.find_by_name(group_name)
        if group is None:
            raise NotFound(f"There is no group named '{group_name[:60]}' (add it through "
                           "the API: POST /groups).")
        self.groups.set_member(group.id, user.id, actor=CONSOLE, member=member)
        return user

    def user(self, name: str) -> User:
        found = self.users.find_user_by_name(name)
        if found is None:
            raise NotFound(f"There is no user named '{name[:60]}'.")
        return found

    def close(self) -> None:
        self._jobs.shutdown()
        self._db.close()

"""One counter per table, raised by every commit that writes to it (coprod_study.data_versions)."""

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from coprod_study.models.base import Base


class DataVersion(Base):
    """`version` counts the commits that wrote to the table `name` ("*": a write whose
    table could not be told, which every kept page depends on)."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)

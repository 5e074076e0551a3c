"""What the seed's patterns give: sync SQLAlchemy sessions in `def` endpoints.

The seed's `session.py` (`create_engine` with its pool settings, `SessionLocal`, `get_db`),
its declarative models on the same tables, `db.query(...)` CRUD, `response_model=` on
pydantic schemas, `Query(ge=, le=)` pagination, `selectinload` / `joinedload` for eager
loading, and passlib for the passwords. FastAPI runs every `def` dependency and endpoint
in its thread pool. Only the endpoints `bench/run.py` drives are here.

    DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/bench SECRET_KEY=... \
        uvicorn bench.seed_style:app --loop uvloop --http httptools --no-access-log
"""

# The seed writes `= Depends(...)` defaults; kept here as it wrote them.
# ruff: noqa: B008

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import jwt
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Response, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from passlib.context import CryptContext
from pydantic import BaseModel, ConfigDict, PlainSerializer, StringConstraints
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, create_engine
from sqlalchemy.orm import (
    Session,
    declarative_base,
    joinedload,
    relationship,
    selectinload,
    sessionmaker,
)

# --- session.py -----------------------------------------------------------------------
engine = create_engine(
    os.environ["DATABASE_URL"],
    pool_size=10,
    max_overflow=20,
    pool_pre_ping=True,
    pool_recycle=3600,
    echo=False,
)
SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
Base = declarative_base()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


# --- models ---------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True, index=True)
    email = Column(String, unique=True, index=True, nullable=False)
    username = Column(String, unique=True, index=True)
    username_lower = Column(String, unique=True)
    hashed_password = Column(String, nullable=False)
    is_active = Column(Boolean, default=True)
    is_superuser = Column(Boolean, default=False)
    created_at = Column(DateTime(timezone=True), default=_now)
    updated_at = Column(DateTime(timezone=True), default=_now, onupdate=_now)

    items = relationship("Item", back_populates="owner", order_by="Item.id")


class Item(Base):
    __tablename__ = "items"

    id = Column(Integer, primary_key=True, index=True)
    name = Column(String, index=True)
    description = Column(Text, nullable=True)
    owner_id = Column(Integer, ForeignKey("users.id"))
    created_at = Column(DateTime(timezone=True), default=_now)
    updated_at = Column(DateTime(timezone=True), default=_now, onupdate=_now)

    owner = relationship("User", back_populates="items")


# --- schemas --------------------------------------------------------------------------
# The contract writes timestamps as 2026-01-31T12:00:00.123456+00:00 (pydantic alone
# would write "Z"), so the schemas carry the same serializer as the service's.
UtcDatetime = Annotated[
    datetime, PlainSerializer(lambda value: value.astimezone(UTC).isoformat(), return_type=str)
]


class ItemCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
    description: (
        Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00]*$")] | None
    ) = None


class ItemSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    owner_id: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class UserSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    username: str | None
    is_active: bool
    is_superuser: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class UserWithItems(UserSchema):
    items: list[ItemSchema]


class ItemWithOwner(ItemSchema):
    owner: UserSchema


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


# --- auth -----------------------------------------------------------------------------
SECRET_KEY = os.environ["SECRET_KEY"]
pwd_context = CryptContext(
    schemes=["argon2"],
    argon2__time_cost=int(os.environ.get("ARGON2_TIME_COST", "3")),
    argon2__memory_cost=int(os.environ.get("ARGON2_MEMORY_COST", "65536")),
    argon2__parallelism=int(os.environ.get("ARGON2_PARALLELISM", "4")),
)
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")
credentials_exception = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Could not validate credentials",
    headers={"WWW-Authenticate": "Bearer"},
)


def get_current_user(token: str = Depends(oauth2_scheme), db: Session = Depends(get_db)) -> User:
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
        user_id = int(payload["sub"])
    except (jwt.PyJWTError, KeyError, ValueError):
        raise credentials_exception from None
    user = db.query(User).filter(User.id == user_id).first()
    if user is None or not user.is_active:
        raise credentials_exception
    return user


# --- endpoints ------------------------------------------------------------------------
app = FastAPI(openapi_url=None)


@app.get("/health")
def health(db: Session = Depends(get_db)):
    db.execute(User.__table__.select().limit(0))
    return {"status": "ok", "database": "ok"}


@app.post("/auth/token", response_model=Token)
def login(form: OAuth2PasswordRequestForm = Depends(), db: Session = Depends(get_db)):
    login_name = form.username.lower()
    if "@" in login_name:
        user = db.query(User).filter(User.email == login_name).first()
    else:
        user = db.query(User).filter(User.username_lower == login_name).first()
    if not user or not pwd_context.verify(form.password, user.hashed_password):
        raise HTTPException(
            status_code=401,
            detail="Incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not user.is_active:
        raise HTTPException(status_code=400, detail="Inactive user")
    now = datetime.now(UTC)
    payload = {"sub": str(user.id), "iat": now, "exp": now + timedelta(minutes=60)}
    return {"access_token": jwt.encode(payload, SECRET_KEY, algorithm="HS256")}


@app.get("/users/", response_model=list[UserWithItems | UserSchema])
def read_users(
    response: Response,
    skip: int = Query(0, ge=0, le=2**31 - 1),
    limit: int = Query(100, ge=1, le=100),
    include: Literal["items"] | None = None,
    db: Session = Depends(get_db),
    current_user: User = Depends(get_current_user),
):
    query = db.query(User)
    response.headers["X-Total-Count"] = str(query.count())
    if include:
        users = query.options(selectinload(User.items)).order_by(User.id).offset(skip).limit(limit)
        return [UserWithItems.model_validate(user) for user in users.all()]
    return [
        UserSchema.model_validate(user)
        for user in query.order_by(User.id).offset(skip).limit(limit)
    ]


@app.get("/users/{user_id:int}", response_model=UserWithItems | UserSchema)
def read_user(
    user_id: int = Path(ge=1, le=2**31 - 1),
    include: Literal["items"] | None = None,
    db: Session = Depends(get_db),
    current_user: User = Depends(get_current_user),
):
    query = db.query(User).filter(User.id == user_id)
    if include:
        query = query.options(selectinload(User.items))
    db_user = query.first()
    if db_user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return UserWithItems.model_validate(db_user) if include else UserSchema.model_validate(db_user)


@app.get("/items/", response_model=list[ItemWithOwner | ItemSchema])
def read_items(
    response: Response,
    skip: int = Query(0, ge=0, le=2**31 - 1),
    limit: int = Query(100, ge=1, le=100),
    include: Literal["owner"] | None = None,
    db: Session = Depends(get_db),
    current_user: User = Depends(get_current_user),
):
    query = db.query(Item)
    response.headers["X-Total-Count"] = str(query.count())
    if include:
        items = query.options(joinedload(Item.owner)).order_by(Item.id).offset(skip).limit(limit)
        return [ItemWithOwner.model_validate(item) for item in items.all()]
    return [
        ItemSchema.model_validate(item)
        for item in query.order_by(Item.id).offset(skip).limit(limit)
    ]


@app.post("/items/", response_model=ItemSchema, status_code=201)
def create_item(
    item: ItemCreate,
    db: Session = Depends(get_db),
    current_user: User = Depends(get_current_user),
):
    db_item = Item(**item.model_dump(), owner_id=current_user.id)
    db.add(db_item)
    db.commit()
    db.refresh(db_item)
    return db_item

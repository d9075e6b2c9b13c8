-- CreateTable
CREATE TABLE "Orchestra" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "subdomain" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "contactEmail" TEXT,
    "plan" TEXT,

    CONSTRAINT "Orchestra_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Musician" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "instrument" TEXT NOT NULL,

    CONSTRAINT "Musician_pkey" PRIMARY KEY ("id")
);

-- CreateEnum
CREATE TYPE "Section" AS ENUM ('STRINGS', 'WOODWINDS', 'BRASS', 'PERCUSSION', 'KEYBOARDS', 'VOICES');

-- CreateTable
CREATE TABLE "Orchestra" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "subdomain" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "contactEmail" TEXT,
    "plan" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Orchestra_pkey" PRIMARY KEY ("id"),
    -- One orchestra per database: the row the seed keeps up to date.
    CONSTRAINT "Orchestra_single_row" CHECK ("id" = 1)
);

-- CreateTable
CREATE TABLE "Musician" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT,
    "instrument" TEXT NOT NULL,
    "section" "Section" NOT NULL,
    "joinedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Musician_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Musician_email_key" ON "Musician"("email");

import {
  Controller, Delete, Get, HttpCode, Param, Post, Query, UploadedFile, UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { CurrentPrincipal } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { pageQuerySchema, toPage } from '../common/pagination';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { presentDataset } from './dataset.presenter';
import { DatasetsService } from './datasets.service';

class PageQueryDto extends createZodDto(pageQuerySchema) {}

@ApiTags('files')
@ApiBearerAuth()
@Controller('v1/files')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /** Upload a JSONL training or validation dataset (multipart field `file`). */
  @Post()
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' } } } })
  @Idempotent() // above the file interceptor: decorators apply bottom-up, so this one runs after it
  @UseInterceptors(FileInterceptor('file'))
  async upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentPrincipal() principal: Principal) {
    if (!file) throw new ApiError('invalid_request', 'multipart field "file" is required', 'file');
    const dataset = await this.datasets.upload(principal.teamId, {
      path: file.path,
      originalName: file.originalname,
      size: file.size,
    });
    return presentDataset(dataset);
  }

  @Get()
  async list(@Query() query: PageQueryDto, @CurrentPrincipal() principal: Principal) {
    const rows = await this.datasets.list(principal.teamId, query.after, query.limit);
    return toPage(rows, query.limit, presentDataset);
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    return presentDataset(await this.datasets.get(principal.teamId, id));
  }

  @Delete(':id')
  @HttpCode(200)
  async delete(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    await this.datasets.delete(principal.teamId, id);
    return { id, object: 'file', deleted: true };
  }
}

import { Body, Controller, Get, Param, Post, Query, UploadedFiles, UseInterceptors } from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { actorOf } from '../audit/audit-event';
import { CurrentPrincipal, RequireRole } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { pageQuerySchema, toPage } from '../common/pagination';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { presentModel } from './model.presenter';
import { ModelsService } from './models.service';

const FILE_FIELDS = ['config', 'tokenizer', 'tokenizer_config'] as const;

class RegisterModelDto extends createZodDto(
  z.object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'must be 1-128 letters, digits, ".", "_", "-" or "/"'),
  }),
) {}
class PageQueryDto extends createZodDto(pageQuerySchema) {}

type Uploads = Partial<Record<(typeof FILE_FIELDS)[number], Express.Multer.File[]>>;

@ApiTags('models')
@ApiBearerAuth()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  /** Operators register a base model: `name` plus the HF config.json, tokenizer.json and tokenizer_config.json. */
  @Post()
  @RequireRole('operator')
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', ...FILE_FIELDS],
      properties: {
        name: { type: 'string' },
        ...Object.fromEntries(FILE_FIELDS.map((f) => [f, { type: 'string', format: 'binary' }])),
      },
    },
  })
  @Idempotent() // above the file interceptor: decorators apply bottom-up, so this one runs after it
  @UseInterceptors(FileFieldsInterceptor(FILE_FIELDS.map((name) => ({ name, maxCount: 1 }))))
  async register(@Body() body: RegisterModelDto, @UploadedFiles() files: Uploads | undefined, @CurrentPrincipal() principal: Principal) {
    const missing = FILE_FIELDS.find((f) => !files?.[f]?.[0]);
    if (missing) throw new ApiError('invalid_request', `multipart field "${missing}" is required`, missing);
    const model = await this.models.register({
      name: body.name,
      configPath: files!.config![0]!.path,
      tokenizerPath: files!.tokenizer![0]!.path,
      tokenizerConfigPath: files!.tokenizer_config![0]!.path,
    }, actorOf(principal));
    return presentModel(model);
  }

  @Get()
  async list(@Query() query: PageQueryDto) {
    return toPage(await this.models.list(query.after, query.limit), query.limit, presentModel);
  }

  /** By id, or by name (URL-encode a "/" in it). */
  @Get(':idOrName')
  async get(@Param('idOrName') idOrName: string) {
    return presentModel(await this.models.resolve(idOrName));
  }
}
